/**
 * `docker load` over the API: POST /images/load with a docker-archive as the body. The daemon
 * answers 200 and then a JSON stream, in which a refusal is a line with "errorDetail" — so the
 * whole answer is read and checked, not just the status.
 */
import type http from 'node:http';
import type { Writable } from 'node:stream';
import { LayerflatError } from '../../errors.js';
import type { DaemonClient } from './client.js';

/** How long a failed upload waits for the daemon's own reason, which says more than EPIPE. */
const REASON_WAIT_MS = 2000;

/**
 * Load the archive `write` writes into the request body. A failure of `write` cuts the upload
 * (a docker-archive's manifest.json comes last, so the daemon loads nothing from a cut one).
 */
export async function loadArchive<R>(
  client: DaemonClient,
  what: string,
  write: (body: Writable) => Promise<R>,
): Promise<R> {
  const { body, response } = client.open('POST', '/images/load?quiet=1', { 'Content-Type': 'application/x-tar' });
  let result: R;
  try {
    result = await write(body);
    if (!body.writableEnded) await new Promise<void>((resolve) => body.end(resolve));
  } catch (err) {
    // The connection broke under us: the daemon may have said why. Otherwise the failure is ours.
    const broken = body.destroyed || Boolean(body.errored); // no .errored before Node 18
    const reason = broken ? await refusalWithin(client, response, what, REASON_WAIT_MS) : undefined;
    body.destroy();
    throw reason ?? err;
  }
  await checkLoadAnswer(client, await response, what);
  return result;
}

/** The daemon's refusal, if it answers with one within `ms` (an upload failed: was it the daemon?). */
async function refusalWithin(
  client: DaemonClient,
  response: Promise<http.IncomingMessage>,
  what: string,
  ms: number,
): Promise<LayerflatError | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const answered = response.then(
    (res) => (res.statusCode === 200 ? undefined : client.refused(res, what)),
    () => undefined,
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A non-200 status, or an error line in the JSON stream, as one LayerflatError. */
async function checkLoadAnswer(client: DaemonClient, res: http.IncomingMessage, what: string): Promise<void> {
  if (res.statusCode !== 200) throw await client.refused(res, what);
  const text = await client.readAnswer(res);
  for (const line of text.split(/\r?\n/)) {
    const message = errorOf(line);
    if (message !== undefined) {
      throw new LayerflatError(
        'IO',
        `${what}: the Docker daemon at ${client.address.text} refused the image: ${message}`,
        {
          located: true,
        },
      );
    }
  }
}

/** The error a line of the load's JSON stream reports, if any. */
export function errorOf(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  let json: { error?: unknown; errorDetail?: { message?: unknown } };
  try {
    json = JSON.parse(line) as typeof json;
  } catch {
    return undefined; // not JSON: nothing the daemon flags as an error
  }
  const detail = json.errorDetail?.message ?? json.error;
  if (detail === undefined) return undefined;
  return typeof detail === 'string' ? detail.trim().split('\n', 1)[0] : JSON.stringify(detail);
}
