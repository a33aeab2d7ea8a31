// The seed's App component (the React example of the original write-up),
// unchanged except for:
//   - the URLs: brokerURL "ws://localhost:80/ws" -> the ws service, and the
//     disconnect call "/api/test/v1/chat-room/disconnect" -> the api service
//     (both overridable by /config.js, which make test-web uses);
//   - the token: "Bearer aaaa" -> a development token for user 8 signed with
//     the PUBLIC development secret (DEV_MODE=1), valid until 2100.
// Like the seed it talks in room 2 as user 8 with user 3: room 2 must be a
// room of users 8 and 3 (see docs/web.md).
import { useEffect, useRef, useState } from "react";
import { Client } from "@stomp/stompjs";
import axios from "axios";

const { wsURL = "ws://localhost:8081/ws", apiURL = "http://localhost:8080" } =
  window.__ROOMWIRE_CONFIG__ ?? {};
const TOKEN =
  "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4IiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.nTOkdvTOpPw9r1aT2niF6tiBaIhPw3gLXfpfNKecN1E";

function App() {
  const stompClient = useRef(null);
  const [messages, setMessages] = useState([]);
  const [inputValue, setInputValue] = useState("");

  const handleInputChange = (event) => {
    setInputValue(event.target.value);
  };

  const disconnectApi = async (sendId, rcvId, chatRoomId) => {
    try {
      const config = {
        headers: {
          Authorization:
            TOKEN,
        },
      };
      const payload = {
        sendId: 8,
        rcvId: 3,
        chatRoomId: 2,
      };

      const response = await axios.post(
        `${apiURL}/api/v1/chat-room/disconnect`,
        payload,
        config
      );

      if (response.status === 200) {
        console.log("Chat room disconnected successfully:", response.data);
      }
    } catch (error) {
      // Handle errors here
      console.error("Error disconnecting chat room:", error);
    }
  };

  const connect = () => {
    stompClient.current = new Client({
      brokerURL: wsURL, // WS 서버 아이피
      connectHeaders: {
        Authorization:
            TOKEN,
        chatRoomId: 2, // Passing the chatRoomId in connect headers
        sendId: 8,
        rcvId: 3,
      },
      // connection 맺기
      onConnect: () => {
        console.log("Connected to WebSocket");
      // connection 맺은 후 subscribe();  
        subscribe();
      },
      debug: (str) => {
        console.log(new Date(), str);
      },
      reconnectDelay: 5000, // Auto reconnect after 5 seconds
    });

    stompClient.current.activate();
  };

  const subscribe = () => {
    stompClient.current.subscribe("/sub/chat/room/2", (message) => {
      const newMessage = JSON.parse(message.body);
      setMessages((prevMessages) => [...prevMessages, newMessage]);
    });
  };

  const disconnect = (chatRoomNo, authToken) => {
    console.log("채팅이 종료되었습니다.");
    disconnectApi();
    stompClient.current.deactivate();
  };

  useEffect(() => {
    connect();
    return () => disconnect();
  }, []);

// pub 영역
  const sendMessage = () => {
    if (stompClient.current && inputValue) {
      const body = {
        chatRoomId: 2,
        sendId: 8,
        rcvId: 3,
        message: inputValue,
      };

      stompClient.current.publish({
        destination: `/pub/send-message`,
        body: JSON.stringify(body),
      });

      // setInputValue("");
    }
  };

  return (
    <div className="chat-container">
      <div className="send-message">
        <h3>사용자 채팅창</h3>
        <input
          type="text"
          value={inputValue}
          onChange={handleInputChange}
          placeholder="Type your message here"
          onKeyPress={(e) => {
            if (e.key === "Enter") {
              sendMessage();
            }
          }}
        />
        <button onClick={sendMessage}>Send</button>
      </div>

      <div className="received-messages">
        <h3>Received Messages</h3>
        <ul>
          {messages.map((item, index) => (
            <li key={index} className="list-item">
              <strong>{item.sendId}: </strong>
              {item.message}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

export default App;
