// The one start failure lklfuse-server cannot explain itself: without
// libfuse3 the dynamic loader refuses to run it, in words of its own.
// Every other failure, with what to do about it, the server says
// (native/fuse/start_failure.c); bin/lklfuse says this one as here.

export interface StartFailure {
	/** What went wrong, for the one error line. */
	cause: string;
	/** What to do about it. */
	advice: string;
}

const NO_LIBFUSE = /error while loading shared libraries: (libfuse3\.so[.\d]*): cannot open shared object file/;

/** The failure the loader's message `text` tells of, if it is that one. */
export function loaderFailure(text: string): StartFailure | undefined {
	const m = NO_LIBFUSE.exec(text);
	if (!m)
		return undefined;
	return {
		cause: `${m[1]} is missing, the FUSE library lklfuse needs`,
		advice: 'install the fuse3 package (apt-get install fuse3, or dnf install fuse3)',
	};
}
