// SPDX-License-Identifier: GPL-2.0
//
// lkl info's words, no kernel: os-release parsing, human sizes, and the
// text layout (aligned columns, empty ones left out, names from the image
// escaped).
import t from 'tap';
import { humanSize } from '../../dist/src/image/human-size.js';
import { infoText } from '../../dist/src/image/info-text.js';
import { parseOsRelease } from '../../dist/src/image/os-release.js';

t.test('os-release: quoted and bare values, escapes, comments and junk', async (t) => {
	const vars = parseOsRelease([
		'# a comment',
		'NAME="Fedora Linux"',
		'ID=fedora',
		'VERSION_ID=40',
		'PRETTY_NAME=\'Single "quoted"\'',
		'HOME_URL="https://x/\\"q\\" \\$HOME \\\\"',
		'not an assignment',
		'lower=ignored',
		'  EMPTY=',
	].join('\n'));
	t.equal(vars.get('NAME'), 'Fedora Linux');
	t.equal(vars.get('ID'), 'fedora');
	t.equal(vars.get('VERSION_ID'), '40');
	t.equal(vars.get('PRETTY_NAME'), 'Single "quoted"');
	t.equal(vars.get('HOME_URL'), 'https://x/"q" $HOME \\');
	t.equal(vars.get('EMPTY'), '');
	t.notOk(vars.has('lower'));
});

t.test('human sizes: binary units, three digits at most', async (t) => {
	for (const [bytes, text] of [
		[0, '0 B'], [512, '512 B'], [1023, '1023 B'], [1024, '1 KiB'], [1536, '1.5 KiB'],
		[10 * 1024 - 1, '10 KiB'], [100 << 20, '100 MiB'], [(1 << 30) - 1, '1 GiB'], [1.5 * 2 ** 40, '1.5 TiB'],
	])
		t.equal(humanSize(bytes), text, String(bytes));
});

const volume = (over) => ({ partition: null, filesystem: null, usage: null, os: null, error: null, ...over });

t.test('a whole disk: no START, TYPE or NAME column; usage as df rounds it', async (t) => {
	const text = infoText({
		image: 'root.img',
		size: 64 << 20,
		table: null,
		volumes: [volume({
			filesystem: { type: 'ext4', label: 'root', uuid: '3e641a89-179f-4a31-b2ad-f99d71e2c687' },
			usage: { size: 60 << 20, used: 1 << 20, available: 50 << 20 },
			os: { prettyName: 'Debian GNU/Linux 12 (bookworm)', id: 'debian', versionId: '12' },
		})],
	});
	t.equal(text, [
		'root.img: 64 MiB, no partition table',
		'',
		'PART    SIZE  FSTYPE  LABEL  UUID                                   USED   AVAIL  USE%',
		'-     64 MiB  ext4    root   3e641a89-179f-4a31-b2ad-f99d71e2c687  1 MiB  50 MiB    2%',
		'      os: Debian GNU/Linux 12 (bookworm)',
		'',
	].join('\n'));
});

t.test('partitions: warnings, errors under their row, control characters written out', async (t) => {
	const part = (number, over) => ({ number, start: number << 20, size: 8 << 20, type: '0x83', typeName: 'Linux', bootable: false, logical: number > 4, ...over });
	const text = infoText({
		image: 'disk\n.img',
		size: 32 << 20,
		table: { type: 'mbr', id: '0x0badcafe', sectorSize: 512, problems: ['partition 6 runs past\x1b[2J the end'] },
		volumes: [
			volume({ partition: part(1), filesystem: { type: 'ext4', label: 'a\x1b]0;b', uuid: null }, error: 'cannot mount ext4: bad\nthing' }),
			volume({ partition: part(5, { typeName: null, type: '0xda' }) }),
		],
	});
	t.equal(text, [
		'disk\\n.img: 32 MiB, MBR, disk id 0x0badcafe, 2 partitions',
		'warning: partition 6 runs past\\x1b[2J the end',
		'',
		'PART  START   SIZE  TYPE   FSTYPE  LABEL',
		'1     1 MiB  8 MiB  Linux  ext4    a\\x1b]0;b',
		'      cannot mount ext4: bad\\nthing',
		'5     5 MiB  8 MiB  0xda',
		'',
	].join('\n'));
});
