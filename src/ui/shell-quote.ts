/** An argument as a POSIX shell would need it to get it back: bare when safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line that can be pasted back into a shell: `python3 -c 'print(1)'`, not `python3 -c print(1)`. */
export function shellJoin(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** A local wall-clock time as `2026-11-30 19:09:53` (the reader's time zone, as `date` shows it). */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
