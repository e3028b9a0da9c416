// Small behaviours of the pages: typed confirmations, bulk selection, quick find. No framework.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  for (const button of document.querySelectorAll('button[data-confirm-click]')) {
    button.addEventListener('click', (event) => {
      if (!window.confirm(button.dataset.confirmClick)) event.preventDefault();
    });
  }

  const reimageInput = document.getElementById('reimage-confirm');
  const reimageButton = document.getElementById('reimage');
  if (reimageInput && reimageButton) {
    const update = () => {
      reimageButton.disabled = reimageInput.disabled || reimageInput.value.trim() !== reimageInput.dataset.expect;
    };
    reimageInput.addEventListener('input', update);
    update();
  }

  setUpBulk();
});

function setUpBulk() {
  const form = document.getElementById('bulk-form');
  if (!form) return;
  const all = document.getElementById('select-all');
  const action = document.getElementById('bulk-action');
  const confirmInput = document.getElementById('bulk-confirm');
  const apply = document.getElementById('bulk-apply');
  const count = document.getElementById('selected-count');
  const boxes = () => form.querySelectorAll('input.row-select');
  const selected = () => [...boxes()].filter((box) => box.checked);

  const update = () => {
    const n = selected().length;
    count.textContent = `${n} selected`;
    form.classList.toggle('has-selection', n > 0);
    const needsTyping = ['reimage', 'forget', 'power-off', 'power-cycle'].includes(action.value);
    confirmInput.hidden = !needsTyping;
    confirmInput.placeholder = needsTyping ? `type "${action.value}" to confirm` : '';
    apply.disabled = n === 0 || action.value === '' || (needsTyping && confirmInput.value.trim() !== action.value);
  };

  all.addEventListener('change', () => {
    for (const box of boxes()) if (!box.closest('tr').hidden) box.checked = all.checked;
    update();
  });
  form.addEventListener('change', update);
  confirmInput.addEventListener('input', update);
  update();
}

