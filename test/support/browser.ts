import { afterAll } from 'vitest';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { launchChromium } from './chromium.ts';

/** Starts headless Chromium (see launchChromium) for this test file; closed after it. */
export async function startBrowser(): Promise<Browser> {
  const browser = await launchChromium();
  afterAll(() => browser.close());
  return browser;
}

/** A page of its own (a fresh context) in this file's Chromium; what the page throws is kept in `errors`. */
export async function openPage(viewport: { width: number; height: number }): Promise<{ page: Page; errors: string[] }> {
  const browser = await startBrowser();
  const page = await (await browser.newContext({ viewport })).newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

/** The page's GraphQL WebSockets, passed through here so that a test can cut them and keep them cut. */
export class LiveLink {
  private down = false;
  private readonly open: WebSocketRoute[] = [];

  static async on(page: Page): Promise<LiveLink> {
    const link = new LiveLink();
    await link.route(page);
    return link;
  }

  /** (Again) passes the page's sockets through this link. */
  async route(page: Page): Promise<void> {
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (this.down) return ws.close({ code: 1012, reason: 'cut by the test' });
      this.open.push(ws);
      ws.connectToServer();
    });
  }

  /** Closes the open sockets, and every new one until `restore`. */
  async cut(): Promise<void> {
    this.down = true;
    await this.drop();
  }

  /** Lets the page connect again. */
  restore(): void {
    this.down = false;
  }

  /** Closes the open sockets (the page may connect again at once). */
  async drop(): Promise<void> {
    for (const ws of this.open.splice(0)) await ws.close({ code: 1012, reason: 'cut by the test' });
  }
}
