package objstore

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"gopkg.in/ini.v1"
)

// Client is an S3 client configured the way the AWS tools are: only from
// the standard environment variables and files, so that no secret is ever
// on a command line (where ps and shell history see it) or in a bundle.
//
//	AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//	    credentials; else ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE),
//	    profile AWS_PROFILE or "default"
//	AWS_REGION (or AWS_DEFAULT_REGION), else the profile's region in
//	    ~/.aws/config (AWS_CONFIG_FILE); default us-east-1
//	AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else the profile's
//	    endpoint_url: an S3-compatible server (path-style requests);
//	    default AWS S3 itself
type Client struct {
	mc *minio.Client
}

// Config is what NewClient reads from the environment; Transport is for
// tests (counting requests), nil in the command.
type Config struct {
	Transport http.RoundTripper
}

// NewClient makes a client from the AWS environment.
func NewClient(cfg Config) (*Client, error) {
	profile := getenv("AWS_PROFILE", "default")
	conf := profileConfig(profile)
	region := getenv("AWS_REGION", getenv("AWS_DEFAULT_REGION", conf["region"]))
	if region == "" {
		region = "us-east-1"
	}
	endpoint := getenv("AWS_ENDPOINT_URL_S3", getenv("AWS_ENDPOINT_URL", conf["endpoint_url"]))
	host, secure, lookup := "s3."+region+".amazonaws.com", true, minio.BucketLookupAuto
	if region == "us-east-1" {
		host = "s3.amazonaws.com"
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			// The URL is not echoed whole: it might carry user:password.
			return nil, errors.New("AWS_ENDPOINT_URL (or the profile's endpoint_url) is not an http:// or https:// URL of a host[:port]: set it to, for example, http://127.0.0.1:7070")
		}
		if u.User != nil {
			return nil, errors.New("AWS_ENDPOINT_URL holds a user name or password: put credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead")
		}
		host, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{Profile: profile},
	})
	mc, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: region, BucketLookup: lookup, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", host, err)
	}
	return &Client{mc: mc}, nil
}

// profileConfig reads the profile's settings from ~/.aws/config (section
// "default" or "profile NAME"); none if there is no such file.
func profileConfig(profile string) map[string]string {
	file := os.Getenv("AWS_CONFIG_FILE")
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil
		}
		file = filepath.Join(home, ".aws", "config")
	}
	f, err := ini.Load(file)
	if err != nil {
		return nil
	}
	name := "profile " + profile
	if profile == "default" && !f.HasSection(name) {
		name = "default"
	}
	if !f.HasSection(name) {
		return nil
	}
	out := map[string]string{}
	for _, k := range f.Section(name).Keys() {
		out[strings.ToLower(k.Name())] = k.Value()
	}
	return out
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
