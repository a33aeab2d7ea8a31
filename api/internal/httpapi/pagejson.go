package httpapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// writePage answers a history page, {"messages":[…],"hasMore":b} plus
// "readBy" when readBy is not nil, writing the stored entries straight
// to the connection. The entries are JSON documents already (history
// holds them exactly as subscribers got them), so nothing is decoded,
// re-encoded or copied into one buffer: what the api holds for a page is
// the page itself, which Config.MaxResponseBytes bounds.
//
// The Content-Length is computed first; a write error means the client
// left, and there is no one to tell.
func writePage(c *gin.Context, page messages.Page, readBy map[int64]int64) {
	head, tail := pageEnvelope(page.HasMore, readBy)
	n := len(head) + len(tail)
	for i, m := range page.Messages {
		n += len(m)
		if i > 0 {
			n++
		}
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(n))
	c.Status(http.StatusOK)
	w := c.Writer
	if _, err := w.WriteString(head); err != nil {
		return
	}
	for i, m := range page.Messages {
		if i > 0 {
			if _, err := w.WriteString(","); err != nil {
				return
			}
		}
		if _, err := w.Write(m); err != nil {
			return
		}
	}
	_, _ = w.WriteString(tail)
}

// pageEnvelope is the JSON around a page's entries: `{"messages":[` and
// `],"hasMore":…,"readBy":{…}}`, with readBy in user id order.
func pageEnvelope(hasMore bool, readBy map[int64]int64) (head, tail string) {
	b := []byte(`],"hasMore":`)
	b = strconv.AppendBool(b, hasMore)
	if readBy != nil {
		users := make([]int64, 0, len(readBy))
		for u := range readBy {
			users = append(users, u)
		}
		slices.Sort(users)
		b = append(b, `,"readBy":{`...)
		for i, u := range users {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = strconv.AppendInt(b, u, 10)
			b = append(b, `":`...)
			b = strconv.AppendInt(b, readBy[u], 10)
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	return `{"messages":[`, string(b)
}
