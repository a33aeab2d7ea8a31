// The chat client: the sign-in page until someone signs in, then the chat.

import { useState } from 'react';
import { clearSession, restoreSession } from './auth/session.js';
import { config } from './config.js';
import ChatScreen from './components/ChatScreen.jsx';
import SignIn from './components/SignIn.jsx';

export default function App() {
  const [session, setSession] = useState(() => restoreSession(config.devMode));
  const [notice, setNotice] = useState('');

  if (!session) {
    return <SignIn devMode={config.devMode} notice={notice} onSignIn={(s) => { setNotice(''); setSession(s); }} />;
  }
  return (
    <ChatScreen
      key={session.userId}
      session={session}
      onSignOut={(why) => {
        clearSession();
        setNotice(why || '');
        setSession(null);
      }}
    />
  );
}
