/**
 * PARITY.md cannot drift: every rule names tests that exist in the files it names, every
 * verdict is one of four with its setting or reason, and the file is exactly what
 * `npm run parity` generates from parity/rules.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'parity.mjs');
const RULES = join(import.meta.dirname, '..', 'parity', 'rules.json');

function check(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

interface Rule {
  verdict: string;
  tests: { file: string; name: string }[];
  setting?: unknown;
  reason?: string;
}

// Each check starts node and prettier: allow for a busy machine.
describe('PARITY.md', { timeout: 60_000 }, () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is what the rules generate, and every rule names a test that exists', () => {
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('has no mismatch: every rule is match, setting (with its name), deviation or choice (with a reason)', () => {
    const rules = (JSON.parse(readFileSync(RULES, 'utf8')) as { rules: Rule[] }).rules;
    expect(rules.length).toBeGreaterThanOrEqual(140);
    for (const rule of rules) {
      expect(['match', 'setting', 'deviation', 'choice']).toContain(rule.verdict);
      if (rule.verdict === 'setting') expect(rule.setting).toBeDefined();
      if (rule.verdict === 'deviation' || rule.verdict === 'choice') expect(rule.reason).toBeTruthy();
    }
  });

  it('the check refuses a rule whose test is not in its file, or whose verdict is unsound', () => {
    const data = JSON.parse(readFileSync(RULES, 'utf8')) as { rules: (Rule & { id: string })[] };
    const [first, second] = data.rules as [Rule & { id: string }, Rule & { id: string }];
    first.tests = [{ file: 'packages/emulator/test/conformance-errors.test.ts', name: 'no such test' }];
    second.verdict = 'mismatch';
    dir = mkdtempSync(join(tmpdir(), 'parity-'));
    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify(data));
    const r = check(`--rules=${file}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `${first.id}: no test named "no such test" in packages/emulator/test/conformance-errors.test.ts`,
    );
    expect(r.stderr).toContain(`${second.id}: verdict must be one of match, setting, deviation, choice`);
  });
});
