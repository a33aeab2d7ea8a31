// Sign in: by user id in development mode (the browser signs a token with
// the public development secret), otherwise by pasting a token.

import { useId, useState } from 'react';
import { devSession, tokenSession } from '../auth/session.js';
import ServerSettings from './ServerSettings.jsx';

export default function SignIn({ devMode, notice, onSignIn }) {
  const id = useId();
  const [userId, setUserId] = useState('');
  const [name, setName] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      if (devMode) {
        if (!/^[1-9][0-9]*$/.test(userId.trim())) throw new Error('Enter a user id: a positive whole number.');
        onSignIn(await devSession(Number(userId.trim()), name.trim() || undefined));
      } else {
        onSignIn(tokenSession(token));
      }
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <div className="card">
        <h1 id={`${id}-title`} className="brand">roomwire</h1>
        <p className="muted">Real-time chat over STOMP.</p>
        <form onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
          {notice && <p className="notice" role="status">{notice}</p>}
          {devMode ? (
            <>
              <div className="field">
                <label htmlFor={`${id}-user`}>User id</label>
                <input id={`${id}-user`} name="userId" inputMode="numeric" autoComplete="off" autoFocus required
                  value={userId} onChange={(e) => setUserId(e.target.value)} aria-describedby={`${id}-devnote`} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-name`}>Display name <span className="muted">(optional)</span></label>
                <input id={`${id}-name`} name="name" autoComplete="nickname" value={name} onChange={(e) => setName(e.target.value)} />
              </div>
              <p id={`${id}-devnote`} className="hint">
                Development mode: this page signs its own token with the public development secret.
                Never enable it in production.
              </p>
            </>
          ) : (
            <div className="field">
              <label htmlFor={`${id}-token`}>Access token (JWT)</label>
              <textarea id={`${id}-token`} name="token" rows={4} autoFocus required spellCheck={false}
                value={token} onChange={(e) => setToken(e.target.value)} aria-describedby={`${id}-tokennote`} />
              <p id={`${id}-tokennote`} className="hint">Paste a token issued for you (for example by <code>chatctl token</code>).</p>
            </div>
          )}
          {error && <p className="error" role="alert">{error}</p>}
          <button type="submit" className="primary wide submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
        <ServerSettings />
      </div>
    </main>
  );
}
