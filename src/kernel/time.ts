function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `+03:00` for 180 minutes east of UTC; a handful of distinct values, computed once each. */
const offsets = new Map<number, string>();
function offsetText(minutesEast: number): string {
  let text = offsets.get(minutesEast);
  if (text === undefined) {
    const abs = Math.abs(minutesEast);
    text = `${minutesEast < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
    offsets.set(minutesEast, text);
  }
  return text;
}

/**
 * RFC 3339 with a numeric offset and second precision, in the process's time zone:
 * `2020-12-10T15:15:45+03:00` (UTC prints as `+00:00`). Runs for every row of every list, so
 * it shifts the instant by the offset and lets the engine's ISO formatter do the rest.
 */
export function formatRfc3339(date: Date): string {
  const minutesEast = -date.getTimezoneOffset();
  return new Date(date.getTime() + minutesEast * 60_000).toISOString().slice(0, 19) + offsetText(minutesEast);
}
