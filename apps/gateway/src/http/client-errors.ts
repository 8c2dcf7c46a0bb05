import { ErrorCode } from '@herald/contracts';
import { type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

const STATUS_BY_PARSER_ERROR: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Requests Node refuses before Express sees them (headers over 16 KiB, a request line that is
 * not HTTP, a request too slow to arrive) are answered like every other error: JSON
 * `{ error: { code: 'INVALID_INPUT', message } }` with the status Node would have sent, then
 * the connection closes. Node's own answer has an empty body.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = STATUS_BY_PARSER_ERROR[err.code ?? ''] ?? 400;
    const message =
      status === 431
        ? 'The request headers are too large.'
        : status === 408
          ? 'The request took too long to arrive.'
          : 'The request is not valid HTTP.';
    const body = JSON.stringify({ error: { code: ErrorCode.INVALID_INPUT, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
