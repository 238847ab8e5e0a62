/** Turns option-table rows into commander options and back into validated values. */
import { Command, Option } from 'commander';
import { gradfleetEnvironment } from '../../shared/config/env';
import { ConfigError } from '../../shared/errors';
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

/**
 * commander 12 ignores arguments a command does not take, so `--augment yes`
 * or `--epochs 5 10` would train without a word about `yes` or `10`.
 */
export function rejectExcessArguments(command: Command, argv: readonly string[]): void {
  const takes = command.registeredArguments;
  if (takes.some((a) => a.variadic) || command.args.length <= takes.length) return;
  const extra = command.args[takes.length];
  const name = `gradfleet ${commandPath(command)}`;
  const switchBefore = argv
    .map((token, i) => (token === extra && i > 0 ? command.options.find((o) => !o.required && !o.optional && o.long === argv[i - 1]) : undefined))
    .find((o) => o !== undefined);
  if (switchBefore !== undefined) {
    throw new ConfigError(`unexpected argument '${extra}': ${switchBefore.long} is a switch and takes no value`);
  }
  throw new ConfigError(`unexpected argument '${extra}': ${name} takes ${takes.length === 0 ? 'flags only' : `${takes.length} argument(s) (${takes.map((a) => a.name()).join(', ')})`}`);
}

function commandPath(command: Command): string {
  return command.parent?.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}
