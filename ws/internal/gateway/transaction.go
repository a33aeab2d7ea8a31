package gateway

import (
	"strings"

	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// transaction is an open transaction: the SEND/ACK/NACK frames it holds
// until COMMIT, and the bytes they retain.
type transaction struct {
	frames []*stomp.Frame
	bytes  int
}

// txOverhead is what an open transaction costs besides its frames: its
// map entry, name and frame slice.
const txOverhead = 128

// inTransaction buffers a SEND/ACK/NACK of an open transaction. All of a
// session's open transactions together hold at most MaxTxBytes, counted by
// what their frames retain (stomp.Frame.Size).
func (c *conn) inTransaction(name string, f *stomp.Frame) error {
	tx := c.txs[name]
	if tx == nil {
		return badRequest("unknown transaction %q", name)
	}
	if len(tx.frames) >= c.srv.cfg.MaxTxFrames {
		return limitErr("at most %d frames per transaction", c.srv.cfg.MaxTxFrames)
	}
	n := f.Size()
	if c.txBytes+n > c.srv.cfg.MaxTxBytes {
		return limitErr("open transactions may hold at most %d bytes", c.srv.cfg.MaxTxBytes)
	}
	tx.frames = append(tx.frames, f)
	tx.bytes += n
	c.txBytes += n
	return nil
}

// onTransaction handles BEGIN, COMMIT and ABORT.
func (c *conn) onTransaction(f *stomp.Frame) error {
	name, ok := f.Get("transaction")
	if !ok || name == "" {
		return badRequest("%s needs a transaction header", f.Command)
	}
	tx := c.txs[name]
	switch f.Command {
	case "BEGIN":
		if tx != nil {
			return badRequest("transaction %q is already open", name)
		}
		if len(c.txs) >= c.srv.cfg.MaxTransactions {
			return limitErr("at most %d open transactions", c.srv.cfg.MaxTransactions)
		}
		n := txOverhead + len(name)
		if c.txBytes+n > c.srv.cfg.MaxTxBytes {
			return limitErr("open transactions may hold at most %d bytes", c.srv.cfg.MaxTxBytes)
		}
		if c.txs == nil {
			c.txs = make(map[string]*transaction)
		}
		// A copy: the name would otherwise pin the BEGIN frame's header
		// text, which is not counted.
		c.txs[strings.Clone(name)] = &transaction{bytes: n}
		c.txBytes += n
		return nil
	case "ABORT":
		if tx == nil {
			return badRequest("unknown transaction %q", name)
		}
		c.closeTx(name, tx)
		return nil
	}
	if tx == nil {
		return badRequest("unknown transaction %q", name)
	}
	c.closeTx(name, tx)
	for _, fr := range tx.frames {
		if c.ending.Load() {
			return errStop // the connection is closing: apply no more
		}
		if err := c.apply(fr); err != nil {
			return err
		}
	}
	return nil
}

// closeTx forgets an open transaction and releases its bytes.
func (c *conn) closeTx(name string, tx *transaction) {
	delete(c.txs, name)
	c.txBytes -= tx.bytes
}
