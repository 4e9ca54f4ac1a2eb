// SPDX-License-Identifier: GPL-2.0
//
// cp -a's rules for `src... dst` (src/commands/cp.ts's plan), on trees in
// memory: no kernel, no host files.
import t from 'tap';
import { plan } from '../../dist/src/commands/cp.js';

/** A Side over a set of paths; directories end in "/". */
function side(paths) {
	const dirs = new Set(['/', '.']);
	const all = new Set();
	for (const p of paths) {
		const clean = p.replace(/\/$/, '');
		all.add(clean);
		if (p.endsWith('/'))
			dirs.add(clean);
	}
	const norm = (p) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
	return {
		async list(dir) {
			const prefix = dir === '.' ? '' : `${norm(dir)}/`;
			return [...all].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
				.map((p) => p.slice(prefix.length));
		},
		async exists(p) {
			return all.has(norm(p)) || dirs.has(norm(p));
		},
		async isDirectory(p) {
			return dirs.has(norm(p));
		},
		async followed(p) {
			return links.get(norm(p)) ?? p;
		},
	};
}

// Symlinks of the source side: name -> where it leads.
const links = new Map([['/lnk', '/var/log']]);

const src = side(['/lnk', '/etc/', '/etc/passwd', '/etc/group', '/etc/hosts', '/var/', '/var/log/', '/var/log/a', 'rel/', 'rel/x', 'top']);
const dst = side(['/out/', '/file']);

t.test('one source to a new name, or into a directory', async (t) => {
	t.same(await plan(['/etc/passwd'], '/new', src, dst), [{ dir: '/etc', name: 'passwd', to: '/new' }]);
	t.same(await plan(['/etc/passwd'], '/out', src, dst), [{ dir: '/etc', name: 'passwd', to: '/out/passwd' }]);
	t.same(await plan(['/etc/passwd'], '/out/', src, dst), [{ dir: '/etc', name: 'passwd', to: '/out/passwd' }]);
	t.same(await plan(['top'], '/out', src, dst), [{ dir: '.', name: 'top', to: '/out/top' }], 'a relative name');
});

t.test('"dir/" and "dir/." copy what is inside', async (t) => {
	t.same(await plan(['/var/log/'], '/new', src, dst), [{ dir: '/var/log', name: '', to: '/new' }]);
	t.same(await plan(['/var/log/.'], '/out', src, dst), [{ dir: '/var/log', name: '', to: '/out' }]);
	t.same(await plan(['/'], '/out', src, dst), [{ dir: '/', name: '', to: '/out' }], 'the root');
	t.same(await plan(['/lnk/.'], '/out', src, dst), [{ dir: '/var/log', name: '', to: '/out' }], 'a symlink\'s contents: where it leads');
	t.same(await plan(['/lnk/'], '/new', src, dst), [{ dir: '/var/log', name: '', to: '/new' }], 'the same with a slash');
	t.same(await plan(['/lnk'], '/out', src, dst), [{ dir: '/', name: 'lnk', to: '/out/lnk' }], 'without one, the symlink itself');
});

t.test('a glob in the last component, matched on the source side, sorted', async (t) => {
	t.same(await plan(['/etc/*s*'], '/out', src, dst), [
		{ dir: '/etc', name: 'hosts', to: '/out/hosts' },
		{ dir: '/etc', name: 'passwd', to: '/out/passwd' },
	]);
	await t.rejects(plan(['/etc/*.conf'], '/out', src, dst), { message: /no match/ });
});

t.test('several sources need a directory', async (t) => {
	t.same((await plan(['/etc/passwd', '/etc/group'], '/out', src, dst)).map((c) => c.to), ['/out/passwd', '/out/group']);
	await t.rejects(plan(['/etc/passwd', '/etc/group'], '/file', src, dst), { exitCode: 2, message: /not a directory/ });
	await t.rejects(plan(['/etc/passwd', '/etc/group'], '/nowhere', src, dst), { exitCode: 2 });
});

t.test('missing and empty sources', async (t) => {
	await t.rejects(plan(['/nope'], '/out', src, dst), { exitCode: 1, message: '/nope: no such file or directory' });
	await t.rejects(plan(['/nope/'], '/out', src, dst), { message: /no such file/ });
	await t.rejects(plan([''], '/out', src, dst), { exitCode: 2 });
	await t.rejects(plan([], '/out', src, dst), { exitCode: 2, message: /nothing to copy/ });
});

t.test('a source that cannot be looked at is not called missing', async (t) => {
	// A damaged image's root: its lstat fails with EIO, not ENOENT.
	const broken = { ...src, async exists() { throw Object.assign(new Error('EIO: i/o error, lstat \'/\''), { code: 'EIO', path: '/' }); } };
	await t.rejects(plan(['/.'], '/out', broken, dst), { exitCode: 1, message: '/.: input/output error (is the image truncated or damaged?)' });
	await t.rejects(plan(['/etc/passwd'], '/out', broken, dst), { exitCode: 1, message: /^\/etc\/passwd: input\/output error/ });
});
