/** Option value parsers shared by the commands; a bad value is a USAGE error in commander's words. */
import { InvalidArgumentError } from 'commander';

/** "0", "12" — a whole number of things. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
