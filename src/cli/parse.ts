import { InvalidArgumentError } from "commander";

/** A commander option parser: a malformed number is a usage error (exit 2), not a crash. */
export function parseIntegerOption(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} expects an integer from ${min} to ${max}.`);
    }
    return Number(value);
  };
}
