/** 1536 → "1.5 KiB": sizes as people read them, in the CLI and on pages alike. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Dollars as people read a bill: "$1.25", and amounts under a cent with the digits that matter: "$0.0031". */
export function formatUsd(dollars: number): string {
  if (dollars >= 0.01) return `$${dollars.toFixed(2)}`;
  if (dollars <= 0) return "$0";
  return `$${dollars.toPrecision(2).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "")}`;
}

/** 850 → "850 ms", 12_300 → "12.3 s", 200_000 → "3 min 20 s", 4_000_000 → "1 h 6 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, "")} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.floor((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
