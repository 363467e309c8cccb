import { readdirSync, readlinkSync, statSync } from 'node:fs';

/** One open file descriptor of a process and what it points at. */
export interface FdLink {
  fd: number;
  /** readlink of /proc/PID/fd/N: a path, or e.g. "pipe:[1234]", "socket:[5678]", "anon_inode:[eventfd]" */
  target: string;
}

/** Major and minor number of a character or block device. */
export interface DeviceNumber {
  major: number;
  minor: number;
}

/**
 * The open fds of a process. Other users' processes (without root) and processes that exit while
 * being read give an empty list or a partial one: a scan over all of /proc must never fail on one pid.
 */
export function listFds(pid: number, procRoot = '/proc'): FdLink[] {
  const dir = `${procRoot}/${pid}/fd`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const links: FdLink[] = [];
  for (const name of names) {
    try {
      links.push({ fd: Number(name), target: readlinkSync(`${dir}/${name}`) });
    } catch {
      /* closed between readdir and readlink */
    }
  }
  return links;
}

/** The targets of /proc/PID/fd/*, unreadable ones left out. */
export function listFdTargets(pid: number, procRoot = '/proc'): string[] {
  return listFds(pid, procRoot).map((l) => l.target);
}

/**
 * Splits a Linux dev_t the way glibc's major()/minor() do: the minor number is split in two
 * (low 8 bits and bits 20 and up), so a plain shift would be wrong for minors above 255.
 */
export function splitDevT(rdev: number | bigint): DeviceNumber {
  const dev = BigInt(rdev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * The device number of a character device, following symlinks (so /proc/PID/fd/N works and
 * names the node the process really opened); null for anything that is not a character device
 * or cannot be stat'ed.
 */
export function readDeviceRdev(path: string): DeviceNumber | null {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isCharacterDevice()) return null;
    return splitDevT(st.rdev);
  } catch {
    return null;
  }
}
