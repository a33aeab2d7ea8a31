package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// child is a copy of this program in another process, so that its CPU time
// is its own: the hop's reader or the relay.
type child struct {
	cmd *exec.Cmd
	out *bufio.Reader
	in  io.WriteCloser // closing it tells the relay to stop
}

// startChild runs this program as role with args and returns it once it
// printed the address it listens on.
func startChild(ctx context.Context, role string, args ...string) (*child, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("find this program: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start the %s: %w", role, err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(out), in: in}
	addr, err := c.out.ReadString('\n')
	if err != nil {
		c.stop()
		return nil, "", fmt.Errorf("the %s did not start: %w", role, err)
	}
	return c, strings.TrimSpace(addr), nil
}

// PID is the child's process id.
func (c *child) PID() int { return c.cmd.Process.Pid }

// result reads the child's closing JSON line into v and waits for it to exit.
func (c *child) result(v any) error {
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		c.stop()
		return fmt.Errorf("read the child's result: %w", err)
	}
	if err := json.Unmarshal(line, v); err != nil {
		c.stop()
		return fmt.Errorf("decode the child's result %q: %w", line, err)
	}
	return c.cmd.Wait()
}

// stop closes the child's standard input and waits for it to exit.
func (c *child) stop() error {
	c.in.Close()
	err := c.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == -1 {
		return nil // killed by the context
	}
	return err
}
