import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import ServiceEditor from './ServiceEditor.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import type { Service, ServiceInput } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

function echoService(args: Record<string, unknown>): Service {
  const input = args.input as ServiceInput;
  return { id: 'svc-1', ...input, interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null };
}

async function setValue(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('ServiceEditor (Manual Tag Wizard)', () => {
  it('sends has_interlock:10:0 when the wizard is set to 10/0', async () => {
    const backend = fakeBackend({ create_service: echoService });
    const onDone = vi.fn();
    render(ServiceEditor, { props: { service: null, onDone, onCancel: vi.fn() } });

    await setValue('service-name', 'Confocal LSM 980');
    await setValue('service-description', 'Zeiss confocal, room 2.14');
    await setValue('tag-input', 'confocal');
    await fireEvent.click(screen.getByTestId('tag-add'));

    expect(screen.queryByTestId('tag-interlock-lead')).toBeNull();
    await fireEvent.click(screen.getByTestId('tag-interlock-enabled'));
    expect((screen.getByTestId('tag-interlock-lead') as HTMLInputElement).value).toBe('5');
    expect((screen.getByTestId('tag-interlock-post') as HTMLInputElement).value).toBe('30');
    expect(screen.getByTestId('tag-interlock-preview').textContent).toBe('has_interlock');

    await setValue('tag-interlock-lead', '10');
    await setValue('tag-interlock-post', '0');
    expect(screen.getByTestId('tag-interlock-preview').textContent).toBe('has_interlock:10:0');

    await fireEvent.click(screen.getByTestId('service-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());

    expect(backend.callsTo('create_service')).toEqual([
      {
        input: {
          name: 'Confocal LSM 980',
          description: 'Zeiss confocal, room 2.14',
          tags: ['confocal', 'has_interlock:10:0'],
        },
      },
    ]);
  });

  it('parses an existing interlock tag and keeps a single one on save', async () => {
    const backend = fakeBackend({ update_service: echoService });
    const service: Service = {
      id: 'svc-9',
      name: 'FACS',
      description: '',
      tags: ['flow', 'has_interlock:15:45'],
      interlock: { lead_minutes: 15, post_minutes: 45 },
      auto_lock: false,
      end_on_lock: null,
      post_lock_url: null,
    };
    render(ServiceEditor, { props: { service, onDone: vi.fn(), onCancel: vi.fn() } });

    expect((screen.getByTestId('tag-interlock-enabled') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('tag-interlock-lead') as HTMLInputElement).value).toBe('15');
    expect((screen.getByTestId('tag-interlock-post') as HTMLInputElement).value).toBe('45');
    expect(screen.getAllByTestId('tag-chip').map((c) => c.dataset.tag)).toEqual(['flow', 'has_interlock:15:45']);

    // Back to the defaults: the bare tag.
    await setValue('tag-interlock-lead', '5');
    await setValue('tag-interlock-post', '30');
    await fireEvent.click(screen.getByTestId('service-save'));

    await waitFor(() => expect(backend.callsTo('update_service')).toHaveLength(1));
    expect(backend.callsTo('update_service')[0]).toEqual({
      id: 'svc-9',
      input: { name: 'FACS', description: '', tags: ['flow', 'has_interlock'] },
    });
  });

  it('rejects bad tags and out-of-range minutes on the client', async () => {
    const backend = fakeBackend({});
    render(ServiceEditor, { props: { service: null, onDone: vi.fn(), onCancel: vi.fn() } });

    await setValue('tag-input', 'two words');
    await fireEvent.click(screen.getByTestId('tag-add'));
    expect(screen.getByTestId('tag-error').textContent).toMatch(/only contain/);
    expect(screen.queryAllByTestId('tag-chip')).toHaveLength(0);

    await fireEvent.click(screen.getByTestId('tag-interlock-enabled'));
    await setValue('tag-interlock-lead', '1441');
    await fireEvent.click(screen.getByTestId('service-save'));
    expect(screen.getByTestId('form-error').textContent).toMatch(/between 0 and 1440/);
    expect(backend.calls).toHaveLength(0);
  });

  it('removing the interlock chip turns the wizard off', async () => {
    fakeBackend({});
    const service: Service = { id: 's', name: 'X', description: '', tags: ['has_interlock'], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null };
    render(ServiceEditor, { props: { service, onDone: vi.fn(), onCancel: vi.fn() } });
    await fireEvent.click(screen.getByTestId('tag-remove'));
    expect((screen.getByTestId('tag-interlock-enabled') as HTMLInputElement).checked).toBe(false);
    expect(screen.queryAllByTestId('tag-chip')).toHaveLength(0);
  });

  it('shows the backend message in form-error', async () => {
    fakeBackend({ create_service: () => fail('CONFLICT', 'A service named "FACS" already exists.') });
    render(ServiceEditor, { props: { service: null, onDone: vi.fn(), onCancel: vi.fn() } });
    await setValue('service-name', 'FACS');
    await fireEvent.click(screen.getByTestId('service-save'));
    expect((await screen.findByTestId('form-error')).textContent).toBe('A service named "FACS" already exists.');
  });

  it('auto-lock is offered with the interlock and saved after the service when changed', async () => {
    const backend = fakeBackend({
      update_service: echoService,
      set_service_auto_lock: (args) => ({ ...echoService({ input: { name: 'FACS', description: '', tags: [] } }), auto_lock: args.on }),
    });
    const onDone = vi.fn();
    const service: Service = {
      id: 'svc-9',
      name: 'FACS',
      description: '',
      tags: ['has_interlock'],
      interlock: { lead_minutes: 5, post_minutes: 30 },
      auto_lock: false,
      end_on_lock: null,
      post_lock_url: null,
    };
    render(ServiceEditor, { props: { service, onDone, onCancel: vi.fn() } });
    const box = screen.getByTestId('service-auto-lock') as HTMLInputElement;
    expect(box.checked).toBe(false);
    expect(box.parentElement?.textContent).toContain("Lock automatically when the user's window closes");
    await fireEvent.click(box);
    await fireEvent.click(screen.getByTestId('service-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('set_service_auto_lock')).toEqual([{ id: 'svc-1', on: true }]);
  });

  it('hides auto-lock without the interlock and does not call it when unchanged', async () => {
    const backend = fakeBackend({ create_service: echoService });
    const onDone = vi.fn();
    render(ServiceEditor, { props: { service: null, onDone, onCancel: vi.fn() } });
    expect(screen.queryByTestId('service-auto-lock')).toBeNull();
    await setValue('service-name', 'Scope');
    await fireEvent.click(screen.getByTestId('service-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('set_service_auto_lock')).toHaveLength(0);
  });

  it('sets the lock tags in the wizard, refuses a javascript: link with the rule, and saves them', async () => {
    const backend = fakeBackend({ create_service: echoService });
    const onDone = vi.fn();
    render(ServiceEditor, { props: { service: null, onDone, onCancel: vi.fn() } });
    await setValue('service-name', 'Confocal');
    // Without the interlock a lock tag is refused.
    await setValue('tag-input', 'set_end_on_lock');
    await fireEvent.click(screen.getByTestId('tag-add'));
    expect(screen.getByTestId('tag-error').textContent).toContain('Instrument has an interlock');
    await fireEvent.click(screen.getByTestId('tag-interlock-enabled'));
    await fireEvent.change(screen.getByTestId('tag-end-on-lock'), { target: { value: 'trim' } });
    await fireEvent.click(screen.getByTestId('tag-post-lock-enabled'));
    await setValue('tag-post-lock-url', 'javascript:alert.1');
    expect(screen.getByTestId('tag-post-lock-error').textContent).toContain(
      "the scheme 'javascript:'; only http:// and https:// links are allowed",
    );
    await fireEvent.click(screen.getByTestId('service-save'));
    expect(screen.getByTestId('form-error').textContent).toContain('only http:// and https://');
    expect(backend.callsTo('create_service')).toHaveLength(0);

    await setValue('tag-post-lock-url', 'https://logbook.example.org/use?event={event_id}&who={username}');
    expect(screen.queryByTestId('tag-post-lock-error')).toBeNull();
    expect(screen.getAllByTestId('tag-chip').map((c) => c.dataset.tag)).toEqual([
      'has_interlock',
      'trim_end_on_lock',
      'post_lock:https://logbook.example.org/use?event={event_id}&who={username}',
    ]);
    await fireEvent.click(screen.getByTestId('service-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('create_service')).toEqual([
      {
        input: {
          name: 'Confocal',
          description: '',
          tags: [
            'has_interlock',
            'trim_end_on_lock',
            'post_lock:https://logbook.example.org/use?event={event_id}&who={username}',
          ],
        },
      },
    ]);
  });

  it('reads stored lock tags into the wizard; a typed post_lock tag goes there too', async () => {
    const backend = fakeBackend({ update_service: echoService });
    const service: Service = {
      id: 'svc-9',
      name: 'FACS',
      description: '',
      tags: ['has_interlock', 'set_end_on_lock'],
      interlock: { lead_minutes: 5, post_minutes: 30 },
      auto_lock: false,
      end_on_lock: 'set',
      post_lock_url: null,
    };
    const onDone = vi.fn();
    render(ServiceEditor, { props: { service, onDone, onCancel: vi.fn() } });
    expect((screen.getByTestId('tag-end-on-lock') as HTMLSelectElement).value).toBe('set');
    await setValue('tag-input', 'post_lock:https://x.example/{order_id}');
    await fireEvent.click(screen.getByTestId('tag-add'));
    expect((screen.getByTestId('tag-post-lock-url') as HTMLInputElement).value).toBe('https://x.example/{order_id}');
    await setValue('tag-input', 'post_lock:ftp://x.example/');
    await fireEvent.click(screen.getByTestId('tag-add'));
    expect(screen.getByTestId('tag-error').textContent).toContain("the scheme 'ftp:'");
    // Removing the interlock drops the lock tags with it.
    await fireEvent.click(screen.getByTestId('tag-interlock-enabled'));
    await fireEvent.click(screen.getByTestId('service-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('update_service')).toEqual([{ id: 'svc-9', input: { name: 'FACS', description: '', tags: [] } }]);
  });
});
