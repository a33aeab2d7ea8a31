// Start a conversation: a direct room with one user (the pair always gets
// the same room) or a group with a name and member ids.

import { useId, useState } from 'react';
import { parseIds } from '../chat/rooms.js';

export default function NewRoomForm({ api, onOpened }) {
  const id = useId();
  const [kind, setKind] = useState('direct');
  const [userId, setUserId] = useState('');
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      let room;
      if (kind === 'direct') {
        const [other, ...rest] = parseIds(userId);
        if (!other || rest.length) throw new Error('Enter one user id.');
        room = await api.openDirect(other);
        setUserId('');
      } else {
        if (!name.trim()) throw new Error('Give the group a name.');
        room = await api.createGroup(name.trim(), parseIds(members));
        setName('');
        setMembers('');
      }
      onOpened(room);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="new-room" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`}>Start a conversation</h2>
      <fieldset className="segmented">
        <legend className="visually-hidden">Kind of room</legend>
        <label>
          <input type="radio" name={`${id}-kind`} value="direct" checked={kind === 'direct'} onChange={() => setKind('direct')} />
          <span>Direct</span>
        </label>
        <label>
          <input type="radio" name={`${id}-kind`} value="group" checked={kind === 'group'} onChange={() => setKind('group')} />
          <span>Group</span>
        </label>
      </fieldset>
      {kind === 'direct' ? (
        <div className="field">
          <label htmlFor={`${id}-user`}>User id</label>
          <input id={`${id}-user`} inputMode="numeric" autoComplete="off" value={userId} onChange={(e) => setUserId(e.target.value)} />
        </div>
      ) : (
        <>
          <div className="field">
            <label htmlFor={`${id}-name`}>Group name</label>
            <input id={`${id}-name`} autoComplete="off" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-members`}>Member ids</label>
            <input id={`${id}-members`} autoComplete="off" value={members} onChange={(e) => setMembers(e.target.value)}
              aria-describedby={`${id}-members-hint`} />
            <p id={`${id}-members-hint`} className="hint">Separated by commas or spaces; you are added too.</p>
          </div>
        </>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" className="primary wide" disabled={busy}>
        {kind === 'direct' ? 'Open direct room' : 'Create group'}
      </button>
    </form>
  );
}
