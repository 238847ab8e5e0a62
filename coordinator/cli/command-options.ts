/** Turns option-table rows into commander options and back into validated values. */
import { Command, Option } from 'commander';
import { gradfleetEnvironment } from '../../shared/config/env';
import { flagName, OptionSpec } from '../../shared/config/option-table';
import { OptionValues, resolveOptions } from '../../shared/config/resolve-options';

export function addTableOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const flag = flagName(spec.key);
    const defaultNote = spec.default !== undefined ? ` (default: ${String(spec.default)})` : '';
    if (spec.type === 'boolean') {
      cmd.addOption(new Option(`--${flag}`, `${spec.description}${defaultNote}`));
      cmd.addOption(new Option(`--no-${flag}`).hideHelp());
    } else {
      const opt = new Option(`--${flag} <value>`, `${spec.description}${defaultNote}`);
      if (spec.choices !== undefined) opt.choices(spec.choices as string[]);
      cmd.addOption(opt);
    }
  }
  return cmd;
}

/** Flags the user actually typed (commander leaves the others undefined: defaults come from the table). */
export function resolveCommandOptions(cmd: Command, specs: readonly OptionSpec[]): OptionValues {
  const flags = cmd.opts() as Record<string, unknown>;
  return resolveOptions(specs, { flags, env: gradfleetEnvironment() });
}
