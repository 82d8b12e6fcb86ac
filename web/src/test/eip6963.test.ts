import { describe, expect, it } from 'vitest';
import { discoverWallets, parseAnnouncement, type Eip1193Provider, type InjectedWallet } from '../eip6963';
import { rejectedByUser } from '../wallet';

const provider: Eip1193Provider = { request: () => Promise.resolve(null) };
const ICON = 'data:image/svg+xml;base64,PHN2Zy8+';
const info = (uuid: string, name = 'Wallet ' + uuid) => ({ uuid, name, icon: ICON, rdns: 'com.example.wallet' });

describe('EIP-6963 discovery', () => {
  it('accepts a well-formed announcement', () => {
    expect(parseAnnouncement({ info: info('a'), provider })).toEqual({ info: info('a'), provider });
  });

  it('refuses announcements without a provider, a uuid or a name', () => {
    expect(parseAnnouncement(null)).toBeNull();
    expect(parseAnnouncement({ info: info('a') })).toBeNull();
    expect(parseAnnouncement({ info: info('a'), provider: { request: 'no' } })).toBeNull();
    expect(parseAnnouncement({ info: { ...info('a'), uuid: '' }, provider })).toBeNull();
    expect(parseAnnouncement({ info: { ...info('a'), name: 42 }, provider })).toBeNull();
    expect(parseAnnouncement({ info: { ...info('a'), name: 'x'.repeat(101) }, provider })).toBeNull();
  });

  it('drops an icon that is not an image data URI', () => {
    for (const icon of ['https://evil.example/i.png', 'javascript:alert(1)', 'data:text/html,<script>', 42])
      expect(parseAnnouncement({ info: { ...info('a'), icon }, provider })?.info.icon).toBe('');
  });

  it('asks the wallets to announce themselves and lists each once', () => {
    const target = new EventTarget();
    const seen: InjectedWallet[][] = [];
    let requests = 0;
    // A wallet that answers every request, and announces itself twice.
    target.addEventListener('eip6963:requestProvider', () => {
      requests++;
      for (const detail of [{ info: info('a'), provider }, { info: info('a'), provider }, { info: info('b'), provider }, { junk: 1 }])
        target.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail }));
    });
    const stop = discoverWallets((ws) => seen.push(ws), target as unknown as Window);
    expect(requests).toBe(1);
    expect(seen.map((ws) => ws.map((w) => w.info.uuid))).toEqual([['a'], ['a', 'b']]);
    stop();
    target.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: { info: info('c'), provider } }));
    expect(seen).toHaveLength(2);
  });

  it('recognises a wallet’s refusal (EIP-1193 4001), also wrapped', () => {
    expect(rejectedByUser(Object.assign(new Error('User rejected'), { code: 4001 }))).toBe(true);
    expect(rejectedByUser(new Error('outer', { cause: { code: 4001 } }))).toBe(true);
    expect(rejectedByUser(Object.assign(new Error('unsupported'), { code: 4200 }))).toBe(false);
    expect(rejectedByUser('no')).toBe(false);
  });
});
