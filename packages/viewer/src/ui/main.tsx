import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './viewer.css';
import { createApi } from './api.js';
import { App, Blocked } from './app.js';

const TOKEN_KEY = 'eventlog.viewer.token';

/** Takes the token from `#token=…` into sessionStorage and out of the address bar (and so out of history and shared links). */
function takeToken(): string | null {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const fromLink = fragment.get('token');
  if (fromLink) {
    sessionStorage.setItem(TOKEN_KEY, fromLink);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(history.state, '', `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ''}`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

const root = document.getElementById('app');
if (root) {
  const { api = '/eventlog', title = 'Event log' } = document.body.dataset;
  const token = takeToken();
  render(
    token ? (
      <App api={createApi(api, token)} apiBase={api} title={title} />
    ) : (
      <Blocked title={title} message="This page needs a viewer link: open it with a link that ends in #token=…" />
    ),
    root,
  );
}
