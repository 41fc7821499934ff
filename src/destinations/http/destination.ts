import type { AddressGuard } from '../../rules/addresses.ts';
import type { RenderedPayload } from '../../rules/payload.ts';
import type { Destination, Prepared, Signer, Target } from '../destination.ts';
import { buildRequest, shownRequest, storedRequest, type OutgoingRequest } from './request.ts';
import { Sender } from './sender.ts';

interface HttpPrepared extends Prepared {
  request: OutgoingRequest;
}

/** Webhooks over HTTP: a signed request (Standard Webhooks), sent with got through the address guard. */
export class HttpDestination implements Destination<HttpPrepared> {
  private readonly sender: Sender;

  constructor(guard: AddressGuard) {
    this.sender = new Sender(guard);
  }

  prepare(payload: RenderedPayload, signer: Signer, messageId: string, at: Date): HttpPrepared {
    const request = buildRequest(payload, signer, messageId, at);
    const stored = storedRequest(request, signer.headers, payload, messageId);
    return {
      request,
      stored,
      shown: { ...shownRequest(stored, payload, messageId)!, body: request.body },
      span: { name: request.method, attributes: spanAttributes(request) },
      carry: (context) => Object.assign(request.headers, context),
    };
  }

  send(prepared: HttpPrepared, target: Target) {
    return this.sender.send(prepared.request, target);
  }

  shown(stored: unknown, payload: unknown, messageId: string) {
    return shownRequest(stored, payload, messageId);
  }

  close(): void {
    this.sender.close();
  }
}

/** OpenTelemetry's HTTP client attributes. */
function spanAttributes(request: OutgoingRequest) {
  const target = new URL(request.url);
  return {
    'http.request.method': request.method,
    'server.address': target.hostname,
    'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
    'url.scheme': target.protocol.replace(':', ''),
  };
}
