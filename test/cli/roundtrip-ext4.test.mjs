// ext4: the full round trip of roundTrip() in test/helpers/cli.mjs (cptofs
// into an empty image, fsck, loop mount, fs2tar + GNU tar, cpfromfs).
import t from 'tap';
import { roundTrip } from '../helpers/cli.mjs';

t.setTimeout(600_000);
roundTrip(t, 'ext4');
