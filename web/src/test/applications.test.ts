import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  api,
  parseStudioApplication,
  parseStudioApplications,
  parseStudioRegistration,
  type StudioApplication,
} from '../api';
import {
  applicationBadge,
  applicationOpen,
  applicationText,
  approvedStudios,
  justApproved,
  ownApplications,
  utcTime,
} from '../studio/model';

const ME = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

const app = (over: Partial<StudioApplication> = {}): StudioApplication => ({
  application_id: 7,
  state: 'pending',
  name: 'Lumière Frères',
  admin_address: ME,
  royalty_address: ME,
  applied_at: '2026-05-03T14:02:09Z',
  decided_by: null,
  decided_at: null,
  reason: null,
  studio_id: null,
  tx_hash: null,
  ...over,
});

const created = {
  studio_id: 4,
  name: 'Lumière Frères',
  admin_address: ME,
  royalty_address: ME,
  commission_bps: 1000,
  tx_hash: '0xabc',
  commission_tx_hash: null,
};

describe('studio applications: the API answers, checked', () => {
  it('reads an application, ignoring fields it does not know', () => {
    expect(parseStudioApplication({ ...app(), extra: 1 })).toEqual(app());
    const approved = app({ state: 'approved', decided_by: OTHER, decided_at: '2026-05-03T15:00:00Z', reason: 'Known studio', studio_id: 4, tx_hash: '0xdef' });
    expect(parseStudioApplication(approved)).toEqual(approved);
  });
  it('refuses an answer that is not an application', () => {
    for (const bad of [
      null,
      [],
      'pending',
      { ...app(), state: 'accepted' },
      { ...app(), application_id: '7' },
      { ...app(), applied_at: 'yesterday' },
      { ...app(), reason: 3 },
      { ...app(), studio_id: -1 },
      Object.fromEntries(Object.entries(app()).filter(([k]) => k !== 'tx_hash')),
    ]) {
      expect(() => parseStudioApplication(bad, 202)).toThrow(ApiError);
    }
    let thrown: unknown = null;
    try {
      parseStudioApplication({}, 202);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 202, code: 'unexpected_reply' });
  });
  it('tells a studio registered (201) from an application (202)', () => {
    expect(parseStudioRegistration(201, created)).toEqual({
      kind: 'created',
      studio: { studio_id: 4, name: 'Lumière Frères', admin_address: ME, royalty_address: ME, commission_bps: 1000, tx_hash: '0xabc' },
    });
    expect(parseStudioRegistration(202, app())).toEqual({ kind: 'application', application: app() });
    expect(() => parseStudioRegistration(202, created)).toThrow(ApiError);
    expect(() => parseStudioRegistration(201, app())).toThrow(ApiError);
  });
  it('reads a list of applications', () => {
    expect(parseStudioApplications({ applications: [app(), app({ application_id: 8 })] })).toHaveLength(2);
    expect(parseStudioApplications({ applications: [] })).toEqual([]);
    expect(() => parseStudioApplications([app()])).toThrow(ApiError);
    expect(() => parseStudioApplications({ applications: [{}] })).toThrow(ApiError);
  });
});

describe('studio applications: the calls', () => {
  afterEach(() => vi.unstubAllGlobals());
  const reply = (status: number, body: unknown) => {
    const f = vi.fn<(url: string, init?: RequestInit) => Promise<Response>>(async () => new Response(JSON.stringify(body), { status }));
    vi.stubGlobal('fetch', f);
    return f;
  };

  it('POST /v1/studios: created, application, or 409 application_pending', async () => {
    const f = reply(201, created);
    expect((await api.registerStudio('tok', 'Lumière Frères', ME)).kind).toBe('created');
    expect(f.mock.calls[0]?.[0]).toBe('/v1/studios');
    expect(f.mock.calls[0]?.[1]?.method).toBe('POST');
    expect(JSON.parse(String(f.mock.calls[0]?.[1]?.body))).toEqual({ name: 'Lumière Frères', royalty_address: ME });
    reply(202, app());
    expect(await api.registerStudio('tok', 'Lumière Frères', ME)).toEqual({ kind: 'application', application: app() });
    reply(409, { error: { code: 'application_pending', message: 'application 7 waits' } });
    await expect(api.registerStudio('tok', 'Lumière Frères', ME)).rejects.toMatchObject({ status: 409, code: 'application_pending' });
  });
  it('GET /v1/studios/applications with its state', async () => {
    const f = reply(200, { applications: [app()] });
    expect(await api.studioApplications('tok')).toEqual([app()]);
    await api.studioApplications('tok', 'rejected');
    expect(f.mock.calls.map((c) => c[0])).toEqual(['/v1/studios/applications', '/v1/studios/applications?state=rejected']);
    expect((f.mock.calls[0]?.[1]?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
  });
  it('approve and reject send the reason', async () => {
    const f = reply(200, app({ state: 'rejected', reason: 'No such company' }));
    expect((await api.rejectStudioApplication('tok', 7, 'No such company')).state).toBe('rejected');
    expect(f.mock.calls[0]?.[0]).toBe('/v1/admin/studio-applications/7/reject');
    expect(JSON.parse(String(f.mock.calls[0]?.[1]?.body))).toEqual({ reason: 'No such company' });
    const g = reply(200, app({ state: 'approved', studio_id: 4, tx_hash: '0xdef' }));
    expect((await api.approveStudioApplication('tok', 7, 'Known studio')).studio_id).toBe(4);
    expect(g.mock.calls[0]?.[0]).toBe('/v1/admin/studio-applications/7/approve');
    reply(409, { error: { code: 'not_pending', message: 'application 7 is rejected' } });
    await expect(api.approveStudioApplication('tok', 7, 'Known studio')).rejects.toMatchObject({ code: 'not_pending' });
  });
});

describe('studio applications: what the dashboard says', () => {
  it('says what each state means, with the id and the date', () => {
    expect(applicationText(app())).toEqual({
      headline: 'Application sent — a platform admin must approve Lumière Frères before you can add films.',
      detail: 'Application #7, sent 2026-05-03 14:02 UTC.',
    });
    expect(applicationText(app({ state: 'registering' })).headline).toMatch(/approved: the studio is being registered on chain/);
    expect(applicationText(app({ state: 'approved', studio_id: 4, decided_at: '2026-05-03T15:00:00Z' }))).toEqual({
      headline: 'Lumière Frères is approved: it is studio #4.',
      detail: 'Application #7, sent 2026-05-03 14:02 UTC; decided 2026-05-03 15:00 UTC.',
    });
    expect(applicationText(app({ state: 'rejected', reason: 'x', decided_at: '2026-05-04T09:30:00Z' })).headline).toBe(
      'Lumière Frères was not approved by the platform.',
    );
    expect(applicationBadge('pending')).toBe('Waiting for approval');
    expect(applicationBadge('rejected')).toBe('Rejected');
    expect(utcTime('not a time')).toBe('not a time');
  });
  it('waits while pending or registering', () => {
    expect(applicationOpen({ state: 'pending' })).toBe(true);
    expect(applicationOpen({ state: 'registering' })).toBe(true);
    expect(applicationOpen({ state: 'approved' })).toBe(false);
    expect(applicationOpen({ state: 'rejected' })).toBe(false);
  });
  it("lists the wallet's own, waiting first, then rejected, latest first; approved ones are studios", () => {
    const list = [
      app({ application_id: 1, state: 'rejected', applied_at: '2026-05-01T00:00:00Z', reason: 'no' }),
      app({ application_id: 2, state: 'approved', studio_id: 9, applied_at: '2026-05-02T00:00:00Z' }),
      app({ application_id: 3, state: 'rejected', applied_at: '2026-05-03T00:00:00Z', reason: 'no' }),
      app({ application_id: 4, state: 'pending', applied_at: '2026-04-30T00:00:00Z' }),
      app({ application_id: 5, admin_address: OTHER }),
    ];
    // Addresses compare case-insensitively (the API sends them checksummed).
    expect(ownApplications(list, ME.toLowerCase()).map((a) => a.application_id)).toEqual([4, 3, 1]);
    expect(ownApplications(list, OTHER).map((a) => a.application_id)).toEqual([5]);
    expect(approvedStudios(list, ME)).toEqual([{ id: 9, name: 'Lumière Frères' }]);
    expect(approvedStudios(list, OTHER)).toEqual([]);
  });
  it('opens the studio of an application seen waiting once it is approved', () => {
    const approved = app({ state: 'approved', studio_id: 4 });
    expect(justApproved([approved], new Set([7]))?.studio_id).toBe(4);
    expect(justApproved([approved], new Set([8]))).toBeNull();
    expect(justApproved([app()], new Set([7]))).toBeNull();
    expect(justApproved([app({ state: 'rejected' })], new Set([7]))).toBeNull();
  });
});
