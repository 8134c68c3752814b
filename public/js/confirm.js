// A confirmation for destructive actions, in a <dialog> of the page (not window.confirm, which
// blocks the page and cannot say which button does what).
import { $ } from './dom.js';

/** Resolves true when the user chose `okLabel`, false on the other button or Escape. */
export function confirmAction(text, okLabel) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}
