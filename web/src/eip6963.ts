// Wallet extensions in the page (EIP-1193 providers), found through EIP-6963: each announces
// itself with an `eip6963:announceProvider` event (its name, icon, reverse-DNS id and a uuid for
// this page load), in answer to the page's `eip6963:requestProvider`. Announcements come from any
// script in the page, so what they carry is checked before it is shown: a name as text, an icon
// only as an image data URI (the page's CSP allows `img-src data:`).

/** An EIP-1193 provider: what viem's `custom` transport needs, and the events we follow. */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
  removeListener?(event: string, listener: (...args: unknown[]) => void): void;
}

export interface WalletInfo {
  uuid: string;
  name: string;
  /** An image data URI, or '' when the announced icon is not one. */
  icon: string;
  rdns: string;
}

export interface InjectedWallet {
  info: WalletInfo;
  provider: Eip1193Provider;
}

const text = (v: unknown, max: number): string | null => (typeof v === 'string' && v.trim() && v.length <= max ? v.trim() : null);

/** The announcement's wallet, or null when it is malformed (missing fields, no `request`). */
export function parseAnnouncement(detail: unknown): InjectedWallet | null {
  if (!detail || typeof detail !== 'object') return null;
  const { info, provider } = detail as { info?: Record<string, unknown>; provider?: Eip1193Provider };
  if (!info || typeof info !== 'object' || !provider || typeof provider.request !== 'function') return null;
  const uuid = text(info.uuid, 100);
  const name = text(info.name, 100);
  if (!uuid || !name) return null;
  const icon = text(info.icon, 200_000) ?? '';
  return {
    info: {
      uuid,
      name,
      icon: /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/i.test(icon) ? icon : '',
      rdns: text(info.rdns, 200) ?? '',
    },
    provider,
  };
}

/**
 * Listens for wallet announcements and asks the wallets to announce themselves; `onChange` gets
 * the wallets found so far (one per uuid, in the order they announced) at every new one.
 * Returns the function that stops listening.
 */
export function discoverWallets(onChange: (wallets: InjectedWallet[]) => void, target: Window = window): () => void {
  const found = new Map<string, InjectedWallet>();
  const onAnnounce = (e: Event) => {
    const w = parseAnnouncement((e as CustomEvent<unknown>).detail);
    if (!w || found.has(w.info.uuid)) return;
    found.set(w.info.uuid, w);
    onChange([...found.values()]);
  };
  target.addEventListener('eip6963:announceProvider', onAnnounce);
  target.dispatchEvent(new Event('eip6963:requestProvider'));
  return () => target.removeEventListener('eip6963:announceProvider', onAnnounce);
}
