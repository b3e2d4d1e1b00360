/** Help text, built from each command's metadata and option specs so it cannot drift from them. */
import type { Command, OptionSpecs } from './command.js';

/** The options of a command as help lists them, grouped under their headings. */
export function formatOptions(options: OptionSpecs): string {
  const groups = new Map<string, [string, string][]>();
  for (const [name, spec] of Object.entries(options)) {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    const group = spec.group ?? 'Options';
    const rows = groups.get(group) ?? [];
    rows.push([flag, `${spec.description}${spec.multiple ? ' (repeatable)' : ''}`]);
    groups.set(group, rows);
  }
  const width = Math.min(30, Math.max(...[...groups.values()].flat().map(([flag]) => flag.length)));
  return [...groups.entries()]
    .map(
      ([group, rows]) =>
        `${group}:\n${rows
          .map(([flag, text]) =>
            flag.length > width
              ? `  ${flag}\n  ${' '.repeat(width)}  ${text}`
              : `  ${flag.padEnd(width)}  ${text}`,
          )
          .join('\n')}`,
    )
    .join('\n\n');
}

/** `b24notify <command> --help`. */
export function formatHelp(command: Command): string {
  const { meta } = command;
  const parts = [`b24notify ${meta.name}: ${meta.summary}`, `Usage: b24notify ${meta.usage}`];
  if (meta.description) parts.push(meta.description.trim());
  if (Object.keys(command.options).length > 0) parts.push(formatOptions(command.options));
  if (meta.examples.length > 0) parts.push(`Examples:\n${meta.examples.map((e) => `  ${e}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}
