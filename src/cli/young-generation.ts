/**
 * The command line's V8 heap: a young generation that does not grow.
 *
 * V8 doubles the young generation's semi-spaces (up to 16 MiB each) while
 * much of what it allocates survives a collection, and a copy's per-entry
 * objects do.  A copy of 67,000 entries then held about 30 MiB more than
 * at the start, and its small files' contents, which V8 frees only when
 * it collects their Buffers, waited longer.  Kept at its first size, the
 * young generation made fs2tar of that tree 27 MiB smaller (peak RSS)
 * for a CPU cost within the noise (nine pairs of fs2tar runs of the
 * Debian root, in turn on a loaded machine: CPU 1.02× median, 0.85–1.16).
 *
 * --max-semi-space-size would say the same, but only on node's command
 * line (a single executable of Node 20 has none): the growth factor is
 * read at every collection, so it can be set from here.  Only the CLI
 * sets it; a program that imports lkl keeps its own heap's settings.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
	setFlagsFromString('--semi-space-growth-factor=1');
}
