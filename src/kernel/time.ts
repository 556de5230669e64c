function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * RFC 3339 with a numeric offset and second precision, in the process's time zone:
 * `2020-12-10T15:15:45+03:00` (UTC prints as `+00:00`).
 */
export function formatRfc3339(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
