import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import ModalFixture from '../../test/ModalFixture.svelte';

describe('Modal', () => {
  it('focuses the first field, keeps Tab inside the dialog and closes on Escape', async () => {
    const onClose = vi.fn();
    render(ModalFixture, { props: { onClose } });
    const first = screen.getByTestId('first');
    const last = screen.getByTestId('last');
    expect(document.activeElement).toBe(first);

    last.focus();
    await fireEvent.keyDown(window, { key: 'Tab' });
    expect(document.activeElement).toBe(first);

    await fireEvent.keyDown(window, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);

    // Focus that escaped to the page behind is brought back in.
    screen.getByTestId('behind').focus();
    await fireEvent.keyDown(window, { key: 'Tab' });
    expect(document.activeElement).toBe(first);

    expect(screen.getByRole('dialog', { name: 'Test dialog' })).toBeTruthy();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
