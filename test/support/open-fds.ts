/** What file descriptors this process has open (Linux /proc), for leak checks. */
import { readdirSync, readlinkSync } from 'node:fs';

/** Descriptors of this process open on `path`. */
export function openFdsTo(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile (e.g. the listing's own descriptor)
    }
  });
}
