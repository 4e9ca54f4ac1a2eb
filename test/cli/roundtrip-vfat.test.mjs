// vfat: the round trip of roundTrip() in test/helpers/cli.mjs with what FAT
// holds (directories and files; no host mount of vfat here), compared for
// types, sizes, contents and mtimes in 2 s steps.
import t from 'tap';
import { roundTrip } from '../helpers/cli.mjs';

t.setTimeout(600_000);
roundTrip(t, 'vfat');
