// Where the API and WebSocket servers are; saving reloads the page.

import { useId, useState } from 'react';
import { config, saveServers } from '../config.js';

export default function ServerSettings() {
  const id = useId();
  const [apiURL, setApiURL] = useState(config.apiURL);
  const [wsURL, setWsURL] = useState(config.wsURL);

  function save(e) {
    e.preventDefault();
    saveServers({ apiURL: apiURL.trim(), wsURL: wsURL.trim() });
    window.location.reload();
  }

  function reset() {
    saveServers(null);
    window.location.reload();
  }

  return (
    <details className="servers">
      <summary>Servers</summary>
      <form onSubmit={save}>
        <div className="field">
          <label htmlFor={`${id}-api`}>API URL</label>
          <input id={`${id}-api`} type="url" value={apiURL} onChange={(e) => setApiURL(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-ws`}>WebSocket URL</label>
          <input id={`${id}-ws`} type="url" value={wsURL} onChange={(e) => setWsURL(e.target.value)} />
        </div>
        <div className="row">
          <button type="submit">Save</button>
          <button type="button" className="link" onClick={reset}>Use defaults</button>
        </div>
      </form>
    </details>
  );
}
