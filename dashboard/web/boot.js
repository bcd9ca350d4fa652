// Starts the merchant dashboard: initializing the module runs its start function, which mounts
// the app into <main id="dashboard"> (dashboard/src/lib.rs). A file of its own because the
// page's Content-Security-Policy allows no inline script.
import init from './paylater_dashboard.js';

init().catch(() => {
  const main = document.getElementById('dashboard');
  if (main) main.textContent = 'The dashboard could not start. Reload the page to try again.';
});
