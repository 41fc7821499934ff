import { HttpDestination } from '../src/destinations/http/destination.ts';
import { conformance } from './support/destinations.ts';
import { Receiver } from './support/receiver.ts';

const post = (url: string, body: string) => ({ method: 'POST' as const, url, contentType: 'application/json', body });

conformance('HTTP', {
  open: (guard) => new HttpDestination(guard),
  async receiver() {
    const receiver = await Receiver.start();
    return {
      payload: (body) => post(`${receiver.url}/hooks`, body),
      answer(how) {
        receiver.reply = () => (how === 'accept' ? { status: 204 } : how === 'refuse' ? { status: 503, body: 'busy' } : { hold: true });
      },
      received: () => receiver.received.map((r) => ({ headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)])), body: r.body })),
      close: () => receiver.close(),
    };
  },
  // Port 9 (discard): privileged, so no test's receiver can take it, and nothing here serves it.
  nowhere: async (body) => post('http://127.0.0.1:9/hooks', body),
});
