// A go-control-plane server for the fleet benchmark (bench/fleet/go-peer-process.ts builds and
// drives it): the SnapshotCache and ADS server that Go control planes are built on, serving the
// resources drainplane encodes for the same config, one snapshot per node group.
//
// Usage: go-control-plane-peer [-cpuprofile FILE] RESOURCES_JSON
//
// It prints {"op":"listening","port":N} once serving, then answers JSON lines on stdin:
// {"op":"drain"} (every group's ingress listeners removed) with {"op":"drained","ms":..},
// {"op":"stats"} with {"op":"stats","cpuMs":..,"rssBytes":..,"streams":..}, {"op":"stop"} by
// exiting. It exits when stdin closes.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
)

// input is what go-peer-process.ts writes: drainplane's encoded resources, per node group.
type input struct {
	MaxReceiveMessageBytes int `json:"maxReceiveMessageBytes"`
	MaxSendMessageBytes    int `json:"maxSendMessageBytes"`
	// Keyed by the node.cluster the group's nodes carry.
	Groups map[string]groupInput `json:"groups"`
}

type groupInput struct {
	// Serialized resources by type URL (base64 in the JSON).
	Resources map[string][][]byte `json:"resources"`
	Ingress   []string            `json:"ingress"`
}

type group struct {
	snapshot *cache.Snapshot
	ingress  map[string]bool
}

// byCluster gives every node of a group the group's snapshot.
type byCluster struct{}

func (byCluster) ID(node *corev3.Node) string { return node.GetCluster() }

const initialVersion = "1"

func decode(typeURL string, raw []byte) (types.Resource, error) {
	var m proto.Message
	switch typeURL {
	case resource.ClusterType:
		m = &clusterv3.Cluster{}
	case resource.EndpointType:
		m = &endpointv3.ClusterLoadAssignment{}
	case resource.ListenerType:
		m = &listenerv3.Listener{}
	case resource.RouteType:
		m = &routev3.RouteConfiguration{}
	default:
		return nil, fmt.Errorf("unexpected type URL %q", typeURL)
	}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("%s: %w", typeURL, err)
	}
	return m, nil
}

func loadGroups(in input) (map[string]*group, error) {
	out := make(map[string]*group, len(in.Groups))
	for cluster, g := range in.Groups {
		byType := make(map[resource.Type][]types.Resource, len(g.Resources))
		for typeURL, items := range g.Resources {
			for _, raw := range items {
				r, err := decode(typeURL, raw)
				if err != nil {
					return nil, fmt.Errorf("group %s: %w", cluster, err)
				}
				byType[typeURL] = append(byType[typeURL], r)
			}
		}
		snapshot, err := cache.NewSnapshot(initialVersion, byType)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", cluster, err)
		}
		ingress := make(map[string]bool, len(g.Ingress))
		for _, name := range g.Ingress {
			ingress[name] = true
		}
		out[cluster] = &group{snapshot: snapshot, ingress: ingress}
	}
	return out, nil
}

// drained is the group's snapshot less its ingress listeners. Only the listeners get a new
// version: clusters, endpoints and routes keep theirs, so SotW nodes are sent LDS alone, as
// drainplane sends them.
func drained(g *group, version string) *cache.Snapshot {
	listeners := g.snapshot.Resources[types.Listener]
	kept := make([]types.Resource, 0, len(listeners.Items))
	for name, item := range listeners.Items {
		if !g.ingress[name] {
			kept = append(kept, item.Resource)
		}
	}
	next := &cache.Snapshot{Resources: g.snapshot.Resources}
	next.Resources[types.Listener] = cache.NewResources(version, kept)
	return next
}

type peer struct {
	cache   cache.SnapshotCache
	groups  map[string]*group
	streams atomic.Int64
	drains  int
}

func (p *peer) drain(ctx context.Context) (float64, error) {
	p.drains++
	version := "drain-" + strconv.Itoa(p.drains)
	start := time.Now()
	for cluster, g := range p.groups {
		if err := p.cache.SetSnapshot(ctx, cluster, drained(g, version)); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / 1000, nil
}

func cpuMs() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e6
}

// rssBytes reads the resident set from /proc/self/statm (pages, second field).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

func (p *peer) callbacks() server.Callbacks {
	open := func(context.Context, int64, string) error {
		p.streams.Add(1)
		return nil
	}
	closed := func(int64, *corev3.Node) { p.streams.Add(-1) }
	return server.CallbackFuncs{
		StreamOpenFunc:        open,
		StreamClosedFunc:      closed,
		DeltaStreamOpenFunc:   open,
		DeltaStreamClosedFunc: closed,
	}
}

func (p *peer) serve(ctx context.Context, in input) (*grpc.Server, int, error) {
	for cluster, g := range p.groups {
		if err := p.cache.SetSnapshot(ctx, cluster, g.snapshot); err != nil {
			return nil, 0, err
		}
	}
	// The same transport settings as drainplane's xDS server.
	s := grpc.NewServer(
		grpc.MaxRecvMsgSize(in.MaxReceiveMessageBytes),
		grpc.MaxSendMsgSize(in.MaxSendMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(s, server.NewServer(ctx, p.cache, p.callbacks()))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	go func() { _ = s.Serve(lis) }()
	return s, lis.Addr().(*net.TCPAddr).Port, nil
}

func run() error {
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (pprof) to this file until the peer stops")
	flag.Parse()
	if flag.NArg() != 1 {
		return fmt.Errorf("usage: %s [-cpuprofile FILE] RESOURCES_JSON", os.Args[0])
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	raw, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		return err
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("%s: %w", flag.Arg(0), err)
	}
	groups, err := loadGroups(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// With no logger given, the cache discards its log lines: nothing is written per request.
	p := &peer{cache: cache.NewSnapshotCache(true, byCluster{}, nil), groups: groups}
	s, port, err := p.serve(ctx, in)
	if err != nil {
		return err
	}
	defer s.Stop()

	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(map[string]any{"op": "listening", "port": port}); err != nil {
		return err
	}
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		var cmd struct {
			Op string `json:"op"`
		}
		if err := json.Unmarshal(lines.Bytes(), &cmd); err != nil {
			return fmt.Errorf("command %q: %w", lines.Text(), err)
		}
		var reply map[string]any
		switch cmd.Op {
		case "drain":
			ms, err := p.drain(ctx)
			if err != nil {
				return err
			}
			reply = map[string]any{"op": "drained", "ms": ms}
		case "stats":
			reply = map[string]any{"op": "stats", "cpuMs": cpuMs(), "rssBytes": rssBytes(), "streams": p.streams.Load()}
		case "stop":
			return nil
		default:
			return fmt.Errorf("unknown command %q", cmd.Op)
		}
		if err := out.Encode(reply); err != nil {
			return err
		}
	}
	return lines.Err()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "go-control-plane peer:", err)
		os.Exit(1)
	}
}
