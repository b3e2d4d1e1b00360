/**
 * `b24notify completion bash|zsh`: a completion script generated from the commands' own
 * option specs, so it offers exactly the flags the commands accept.
 */
import { defineCommand, type Command, type OptionSpecs } from '../command.js';
import { UsageError } from '../errors.js';
import { helpFlag } from '../flags.js';

const NAME = 'completion';
const SHELLS = ['bash', 'zsh'] as const;

interface Completable {
  name: string;
  summary: string;
  words: readonly string[];
  options: OptionSpecs;
}

/** Every command with its completion data; loads them all, which only this command does. */
async function completables(): Promise<Completable[]> {
  // Imported here, not at the top: main imports this file lazily, and a static import back
  // would make the two one chunk that every command loads.
  const { commands } = await import('../main.js');
  return Promise.all(
    Object.entries(commands).map(async ([name, entry]) => {
      const command: Command = (await entry.load()).command;
      return {
        name,
        summary: entry.summary,
        words: command.completion?.words ?? (name === NAME ? SHELLS : []),
        options: { ...command.options, ...command.completion?.options },
      };
    }),
  );
}

function flagsOf(options: OptionSpecs): string[] {
  return Object.entries(options).flatMap(([name, spec]) => [
    `--${name}`,
    ...(spec.short ? [`-${spec.short}`] : []),
  ]);
}

/** A bash script: commands, then each command's words and flags; files after file flags. */
export function bashScript(list: Completable[]): string {
  const cases = list
    .map((c) => {
      const flags = flagsOf(c.options).join(' ');
      const words = c.words.join(' ');
      return words
        ? `    ${c.name}) if [[ $COMP_CWORD -eq 2 ]]; then opts="${words}"; else opts="${flags}"; fi ;;`
        : `    ${c.name}) opts="${flags}" ;;`;
    })
    .join('\n');
  return `# bash completion for b24notify. Load it now:    source <(b24notify completion bash)
# or for good:  b24notify completion bash > ~/.local/share/bash-completion/completions/b24notify
_b24notify() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" opts
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${list.map((c) => c.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$prev" in
    --attach|--blocks|-b|--params|--out|--config|--data) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _b24notify b24notify
`;
}

/** Text safe inside a zsh `_arguments` spec between single quotes. */
function zshEscape(text: string): string {
  return text.replace(/[[\]:\\]/g, (c) => `\\${c}`).replace(/'/g, `'\\''`);
}

/** A zsh script: commands with their summaries, then `_arguments` per command. */
export function zshScript(list: Completable[]): string {
  const commandList = list.map((c) => `    '${zshEscape(c.name)}:${zshEscape(c.summary)}'`).join('\n');
  const cases = list
    .map((c) => {
      const specs = Object.entries(c.options).map(([name, spec]) => {
        const repeat = spec.multiple ? '*' : '';
        const value =
          spec.type === 'string'
            ? `:${zshEscape(spec.valueName ?? 'value')}:${/FILE/.test(spec.valueName ?? '') ? '_files' : ' '}`
            : '';
        return `'${repeat}--${name}[${zshEscape(spec.description)}]${value}'`;
      });
      const words =
        c.words.length > 0
          ? [`'1:${c.name === 'bitrix24' ? 'method' : 'action'}:(${c.words.join(' ')})'`]
          : [];
      return `    ${c.name}) _arguments -s ${[...words, ...specs].join(' \\\n        ')} ;;`;
    })
    .join('\n');
  return `#compdef b24notify
# zsh completion for b24notify. Load it now:   source <(b24notify completion zsh)
# or for good: b24notify completion zsh > "\${fpath[1]}/_b24notify"
_b24notify() {
  local -a commands
  commands=(
${commandList}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'b24notify command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _b24notify "$@"
else
  compdef _b24notify b24notify
fi
`;
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'print a bash or zsh completion script',
    usage: 'completion bash|zsh',
    description: 'Prints a script that completes commands, flags, OPI method names and file arguments.',
    examples: ['source <(b24notify completion bash)', 'b24notify completion zsh > "${fpath[1]}/_b24notify"'],
  },
  positionals: true,
  options: { ...helpFlag },
  async run({ positionals, io }) {
    const [shell, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, NAME);
    if (shell !== 'bash' && shell !== 'zsh') {
      throw new UsageError(
        shell === undefined ? 'name the shell: bash or zsh' : `unsupported shell "${shell}" (bash or zsh)`,
        NAME,
      );
    }
    const list = await completables();
    io.out(shell === 'bash' ? bashScript(list) : zshScript(list));
    return 0;
  },
});
