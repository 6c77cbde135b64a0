package objstore

import (
	"context"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// A wrong secret is refused by the server with an error that says which
// variables to check and holds neither the secret nor the key id's
// secret half; an endpoint URL carrying a password is refused without
// echoing it.
func TestClientErrorsHoldNoSecret(t *testing.T) {
	bucket := testenv.S3Bucket(t, "imbcreds")
	const wrong = "not-the-secret-0123456789"
	t.Setenv("AWS_SECRET_ACCESS_KEY", wrong)
	c, err := NewClient(Config{})
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := Parse("s3://" + bucket + "/a/site.imb")
	_, err = c.OpenBundle(context.Background(), loc, bundle.ReadOptions{})
	if err == nil || strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("open with a wrong secret: %v", err)
	}
	t.Logf("open with a wrong secret: %v", err)
	if err := c.Sink(context.Background(), loc).Put("site.imb.001", strings.NewReader("x"), 1); err == nil || strings.Contains(err.Error(), wrong) {
		t.Fatalf("put with a wrong secret: %v", err)
	}

	t.Setenv("AWS_ENDPOINT_URL", "http://user:hunter2@127.0.0.1:1")
	if _, err := NewClient(Config{}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("endpoint with a password: %v", err)
	}
}
