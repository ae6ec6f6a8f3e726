// YAML's timestamp form (yaml.org/type/timestamp), which is also ISO 8601's: a date, optionally a
// time after `T` or spaces, optionally a zone. `new Date(text)` is not used: it reads a time without
// a zone in the local zone of whichever server parses it, and accepts forms like "March 7".
const timestampPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:[ \t]*(Z|z|[+-]\d{1,2}(?::?\d{2})?))?)?$/;

function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const [, sign, hours, minutes] = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
  if (Number(hours) > 23 || Number(minutes ?? 0) > 59) return undefined;
  return (sign === "-" ? -1 : 1) * (Number(hours) * 60 + Number(minutes ?? 0));
}

/**
 * `2018-09-19 15:19:29`, `2018-09-19T15:19:29.5+02:00`, `2018-09-19` … as a Date; undefined for
 * anything else, including dates that do not exist (Feb 30) and years outside 0001-9999. A time
 * without a zone is UTC, so every server reads the same instant. Digits past milliseconds are dropped.
 */
export function parseTimestamp(text: string): Date | undefined {
  const match = timestampPattern.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", zone] = match;
  const offset = zoneOffsetMinutes(zone);
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  if (offset === undefined || fields[0] < 1 || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(fields[0], fields[1], fields[2]);
  date.setUTCHours(fields[3], fields[4], fields[5], Number(fraction.slice(0, 3).padEnd(3, "0")));
  // A day or month out of range rolls over into the next one; refuse it rather than move the date.
  if (date.getUTCFullYear() !== fields[0] || date.getUTCMonth() !== fields[1] || date.getUTCDate() !== fields[2]) return undefined;
  return new Date(date.getTime() - offset * 60_000);
}
