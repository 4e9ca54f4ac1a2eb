/**
 * SIGINT, SIGTERM and SIGHUP as a request to stop, for the commands that
 * write an image: their default action would end the process with the
 * kernel's dirty pages unwritten, leaving a journal to replay or, on a
 * filesystem without one, damage.  Stopped this way, the command ends at
 * the next entry or chunk, unmounts (which writes everything back) and
 * exits with 128 + the signal's number, as a shell reports a kill.  The
 * handlers stay for the rest of the process: a second signal (podman stop
 * sends only one, a terminal's Ctrl-C may send several) must not cut the
 * write-back short.
 */
import { constants } from 'node:os';
import { CliError } from './errors.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** An AbortSignal that the first of those signals aborts, with a CliError. */
export function stopOnSignals(what: string): AbortSignal {
	const controller = new AbortController();
	const onSignal = (sig: NodeJS.Signals) => {
		if (!controller.signal.aborted)
			controller.abort(new CliError(`stopped by ${sig}: ${what}`, 128 + (constants.signals[sig] ?? 0)));
	};
	for (const sig of SIGNALS)
		process.on(sig, onSignal);
	return controller.signal;
}
