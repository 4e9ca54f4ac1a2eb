// Why lklfuse-server could not mount, from what it said, and the one
// piece of advice that helps: the fix differs between a host (install a
// package, load a module) and a container (pass a device or a capability
// in), and the copy commands need none of it.
//
// The texts matched are the dynamic loader's, libfuse's and fusermount3's,
// which the server passes on (native/fuse/lklfuse.c: mount_fuse()).

export interface StartFailure {
	/** What went wrong, for the one error line. */
	cause: string;
	/** What to do about it, when the cause is one we know. */
	advice?: string;
}

const NO_FUSE_NEEDED = 'lkl fs2tar, cptofs and cpfromfs need none of this';

const KNOWN: { test: RegExp; cause: (m: RegExpExecArray) => string; advice: string }[] = [
	{
		test: /error while loading shared libraries: (libfuse3\.so[.\d]*): cannot open shared object file/,
		cause: (m) => `${m[1]} is missing, the FUSE library lklfuse needs`,
		advice: 'install the fuse3 package (apt-get install fuse3, or dnf install fuse3)',
	},
	{
		test: /device not found, try 'modprobe fuse' first|failed to open \/dev\/fuse: No such file or directory/,
		cause: () => '/dev/fuse is missing',
		advice: 'in a container, pass the device in: --device /dev/fuse (podman run, docker run); ' +
			`on a host, load the module: modprobe fuse; ${NO_FUSE_NEEDED}`,
	},
	{
		// EACCES: the node's mode.  A container's /dev/fuse (--device)
		// has the host's mode, so passing it in again does not help.
		test: /failed to open \/dev\/fuse: Permission denied/,
		cause: () => 'cannot open /dev/fuse: permission denied',
		advice: 'this user may not read and write /dev/fuse: on a host, make it 0666 (as udev does); ' +
			'in a container, /dev/fuse has the host\'s mode: run lklfuse as root there, or make the host\'s 0666; ' +
			NO_FUSE_NEEDED,
	},
	{
		// EPERM: the device cgroup refuses the node (a container's
		// /dev/fuse bind-mounted in, not passed with --device).
		test: /failed to open \/dev\/fuse: Operation not permitted/,
		cause: () => 'cannot open /dev/fuse: operation not permitted',
		advice: 'the device is not allowed here: in a container, pass it in with --device /dev/fuse ' +
			`(a bind mount of /dev/fuse is not enough); ${NO_FUSE_NEEDED}`,
	},
	{
		test: /failed to exec fusermount3|fusermount3: (command )?not found/,
		cause: () => 'fusermount3 is missing, which mounts FUSE filesystems for users other than root',
		advice: 'install the fuse3 package (apt-get install fuse3, or dnf install fuse3)',
	},
	{
		test: /mount failed: Operation not permitted|mount: (permission denied|Operation not permitted)|fusermount3: .*Operation not permitted/,
		cause: () => 'mounting is not permitted here',
		advice: 'a container needs --cap-add SYS_ADMIN besides --device /dev/fuse, and a host a setuid ' +
			`fusermount3 (from the fuse3 package); ${NO_FUSE_NEEDED}`,
	},
];

/**
 * The failure of a server that ended before its mount was ready: `said`
 * is its "error: ..." line (without "error: "), if it got to write one;
 * `stderr` what it printed.
 */
export function startFailure(said: string | undefined, stderr: string): StartFailure {
	const text = `${said ?? ''}\n${stderr}`;
	for (const k of KNOWN) {
		const m = k.test.exec(text);
		if (m)
			return { cause: k.cause(m), advice: k.advice };
	}
	const last = stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop();
	return { cause: said ?? last?.replace(/^lklfuse-server: /, '') ?? 'the FUSE server exited before the mount was ready' };
}
