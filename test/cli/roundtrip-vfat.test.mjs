// vfat: the round trip of test/cli/roundtrip.mjs with what FAT holds
// (directories and files; no host mount of vfat here), compared for types,
// sizes, contents and mtimes in 2 s steps.
import t from 'tap';
import { roundTrip } from './roundtrip.mjs';

t.setTimeout(600_000);
roundTrip(t, 'vfat');
