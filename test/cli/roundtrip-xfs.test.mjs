// xfs: the full round trip of test/cli/roundtrip.mjs (cptofs into an empty
// image, fsck, loop mount, fs2tar + GNU tar, cpfromfs).
import t from 'tap';
import { roundTrip } from './roundtrip.mjs';

t.setTimeout(600_000);
roundTrip(t, 'xfs');
