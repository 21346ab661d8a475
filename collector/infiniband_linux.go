package collector

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs/sysfs"
)

func init() {
	register("infiniband", true, newInfinibandCollector)
}

// infinibandCollector reports the ports of the InfiniBand (and RoCE)
// adapters of /sys/class/infiniband.
type infinibandCollector struct {
	fs     sysfs.FS
	filter deviceFilter
	logger *slog.Logger

	info                       typedDesc
	stateID, physStateID, rate typedDesc
	lifespan                   typedDesc
	counters                   []infinibandCounter
}

// infinibandCounter is one counter file of a port under node_exporter's name.
type infinibandCounter struct {
	desc  typedDesc
	value func(*sysfs.InfiniBandPort) *uint64
}

// infinibandCounters lists the files of ports/<port>/counters,
// counters_ext (before Linux 4.5) and hw_counters (mlx5 and others), with
// node_exporter's metric names and help.
var infinibandCounters = []struct {
	name, help string
	value      func(*sysfs.InfiniBandPort) *uint64
}{
	{"legacy_multicast_packets_received_total", "Number of multicast packets received",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortMulticastRcvPackets }},
	{"legacy_multicast_packets_transmitted_total", "Number of multicast packets transmitted",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortMulticastXmitPackets }},
	{"legacy_data_received_bytes_total", "Number of data octets received on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortRcvData64 }},
	{"legacy_packets_received_total", "Number of data packets received on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortRcvPackets64 }},
	{"legacy_unicast_packets_received_total", "Number of unicast packets received",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortUnicastRcvPackets }},
	{"legacy_unicast_packets_transmitted_total", "Number of unicast packets transmitted",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortUnicastXmitPackets }},
	{"legacy_data_transmitted_bytes_total", "Number of data octets transmitted on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortXmitData64 }},
	// node_exporter's help says "received" for the transmitted packets.
	{"legacy_packets_transmitted_total", "Number of data packets received on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LegacyPortXmitPackets64 }},
	{"excessive_buffer_overrun_errors_total", "Number of times that OverrunErrors consecutive flow control update periods occurred, each having at least one overrun error.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.ExcessiveBufferOverrunErrors }},
	{"link_downed_total", "Number of times the link failed to recover from an error state and went down",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LinkDowned }},
	{"link_error_recovery_total", "Number of times the link successfully recovered from an error state",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LinkErrorRecovery }},
	{"local_link_integrity_errors_total", "Number of times that the count of local physical errors exceeded the threshold specified by LocalPhyErrors.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.LocalLinkIntegrityErrors }},
	{"multicast_packets_received_total", "Number of multicast packets received (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.MulticastRcvPackets }},
	{"multicast_packets_transmitted_total", "Number of multicast packets transmitted (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.MulticastXmitPackets }},
	{"port_constraint_errors_received_total", "Number of packets received on the switch physical port that are discarded",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvConstraintErrors }},
	{"port_constraint_errors_transmitted_total", "Number of packets not transmitted from the switch physical port",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortXmitConstraintErrors }},
	{"port_data_received_bytes_total", "Number of data octets received on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvData }},
	{"port_data_transmitted_bytes_total", "Number of data octets transmitted on all links",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortXmitData }},
	{"port_discards_received_total", "Number of inbound packets discarded by the port because the port is down or congested",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvDiscards }},
	{"port_discards_transmitted_total", "Number of outbound packets discarded by the port because the port is down or congested",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortXmitDiscards }},
	{"port_errors_received_total", "Number of packets containing an error that were received on this port",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvErrors }},
	{"port_packets_received_total", "Number of packets received on all VLs by this port (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvPackets }},
	{"port_packets_transmitted_total", "Number of packets transmitted on all VLs from this port (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortXmitPackets }},
	{"port_transmit_wait_total", "Number of ticks during which the port had data to transmit but no data was sent during the entire tick",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortXmitWait }},
	{"unicast_packets_received_total", "Number of unicast packets received (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.UnicastRcvPackets }},
	{"unicast_packets_transmitted_total", "Number of unicast packets transmitted (including errors)",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.UnicastXmitPackets }},
	{"port_receive_remote_physical_errors_total", "Number of packets marked with the EBP (End of Bad Packet) delimiter received on the port.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvRemotePhysicalErrors }},
	{"port_receive_switch_relay_errors_total", "Number of packets that could not be forwarded by the switch.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.PortRcvSwitchRelayErrors }},
	{"symbol_error_total", "Number of minor link errors detected on one or more physical lanes.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.SymbolError }},
	{"vl15_dropped_total", "Number of incoming VL15 packets dropped due to resource limitations.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.Counters.VL15Dropped }},

	{"duplicate_requests_packets_total", "The number of received packets. A duplicate request is a request that had been previously executed.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.DuplicateRequest }},
	{"implied_nak_seq_errors_total", "The number of time the requested decided an ACK. with a PSN larger than the expected PSN for an RDMA read or response.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.ImpliedNakSeqErr }},
	{"local_ack_timeout_errors_total", "The number of times QP's ack timer expired for RC, XRC, DCT QPs at the sender side. The QP retry limit was not exceed, therefore it is still recoverable error.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.LocalAckTimeoutErr }},
	{"np_cnp_packets_sent_total", "The number of CNP packets sent by the Notification Point when it noticed congestion experienced in the RoCEv2 IP header (ECN bits). The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.NpCnpSent }},
	{"np_ecn_marked_roce_packets_received_total", "The number of RoCEv2 packets received by the notification point which were marked for experiencing the congestion (ECN bits where '11' on the ingress RoCE traffic) . The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.NpEcnMarkedRocePackets }},
	{"out_of_buffer_drops_total", "The number of drops occurred due to lack of WQE for the associated QPs.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.OutOfBuffer }},
	{"out_of_sequence_packets_received_total", "The number of out of sequence packets received.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.OutOfSequence }},
	{"packet_sequence_errors_total", "The number of received NAK sequence error packets. The QP retry limit was not exceeded.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.PacketSeqErr }},
	{"req_cqes_errors_total", "The number of times requester detected CQEs completed with errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.ReqCqeError }},
	{"req_cqes_flush_errors_total", "The number of times requester detected CQEs completed with flushed errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.ReqCqeFlushError }},
	{"req_remote_access_errors_total", "The number of times requester detected remote access errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.ReqRemoteAccessErrors }},
	{"req_remote_invalid_request_errors_total", "The number of times requester detected remote invalid request errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.ReqRemoteInvalidRequest }},
	{"resp_cqes_errors_total", "The number of times responder detected CQEs completed with errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RespCqeError }},
	{"resp_cqes_flush_errors_total", "The number of times responder detected CQEs completed with flushed errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RespCqeFlushError }},
	{"resp_local_length_errors_total", "The number of times responder detected local length errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RespLocalLengthError }},
	{"resp_remote_access_errors_total", "The number of times responder detected remote access errors. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RespRemoteAccessErrors }},
	{"rnr_nak_retry_packets_received_total", "The number of received RNR NAK packets. The QP retry limit was not exceeded.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RnrNakRetryErr }},
	{"roce_adp_retransmits_total", "The number of adaptive retransmissions for RoCE traffic. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RoceAdpRetrans }},
	{"roce_adp_retransmits_timeout_total", "The number of times RoCE traffic reached timeout due to adaptive retransmission. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RoceAdpRetransTo }},
	{"roce_slow_restart_used_total", "The number of times RoCE slow restart was used. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RoceSlowRestart }},
	{"roce_slow_restart_cnps_total", "The number of times RoCE slow restart generated CNP packets. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RoceSlowRestartCnps }},
	{"roce_slow_restart_total", "The number of times RoCE slow restart changed state to slow restart. The counter was added in MLNX_OFED rev 5.0-1.0.0.0 and kernel v5.6.0",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RoceSlowRestartTrans }},
	{"rp_cnp_packets_handled_total", "The number of CNP packets handled by the Reaction Point HCA to throttle the transmission rate. The counters was added in MLNX_OFED 4.1",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RpCnpHandled }},
	{"rp_cnp_ignored_packets_received_total", "The number of CNP packets received and ignored by the Reaction Point HCA. This counter should not raise if RoCE Congestion Control was enabled in the network. If this counter raise, verify that ECN was enabled on the adapter.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RpCnpIgnored }},
	{"rx_atomic_requests_total", "The number of received ATOMIC request for the associated QPs.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RxAtomicRequests }},
	{"rx_dct_connect_requests_total", "The number of received connection requests for the associated DCTs.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RxDctConnect }},
	{"rx_read_requests_total", "The number of received READ requests for the associated QPs.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RxReadRequests }},
	{"rx_write_requests_total", "The number of received WRITE requests for the associated QPs.",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RxWriteRequests }},
	{"rx_icrc_encapsulated_errors_total", "The number of RoCE packets with ICRC errors. This counter was added in MLNX_OFED 4.4 and kernel 4.19",
		func(p *sysfs.InfiniBandPort) *uint64 { return p.HwCounters.RxIcrcEncapsulated }},
}

func newInfinibandCollector(cfg Config) (Collector, error) {
	sysFS, err := sysfs.NewFS(cfg.SysPath)
	if err != nil {
		return nil, fmt.Errorf("open sysfs: %w", err)
	}
	filter, err := newDeviceFilter("infiniband device", cfg.Infiniband.DeviceInclude, cfg.Infiniband.DeviceExclude)
	if err != nil {
		return nil, err
	}
	port := func(name, help string, valueType prometheus.ValueType) typedDesc {
		return typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "infiniband", name), help, []string{"device", "port"}, nil,
		), valueType}
	}
	c := &infinibandCollector{
		fs:     sysFS,
		filter: filter,
		logger: cfg.Logger,
		info: typedDesc{prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "infiniband", "info"),
			"Non-numeric data from /sys/class/infiniband/<device>, value is always 1.",
			[]string{"device", "board_id", "firmware_version", "hca_type"}, nil,
		), prometheus.GaugeValue},
		stateID: port("state_id",
			"State of the InfiniBand port (0: no change, 1: down, 2: init, 3: armed, 4: active, 5: act defer)",
			prometheus.GaugeValue),
		physStateID: port("physical_state_id",
			"Physical state of the InfiniBand port (0: no change, 1: sleep, 2: polling, 3: disable, 4: shift, 5: link up, 6: link error recover, 7: phytest)",
			prometheus.GaugeValue),
		rate: port("rate_bytes_per_second", "Maximum signal transfer rate", prometheus.GaugeValue),
		lifespan: port("lifespan_seconds",
			"The maximum period in ms which defines the aging of the counter reads. Two consecutive reads within this period might return the same values.",
			prometheus.GaugeValue),
	}
	for _, ctr := range infinibandCounters {
		c.counters = append(c.counters, infinibandCounter{port(ctr.name, ctr.help, prometheus.CounterValue), ctr.value})
	}
	return c, nil
}

// Update reports ErrNoData without /sys/class/infiniband (no RDMA device).
// Like node_exporter, it reads every device before it sends anything.
// Unlike node_exporter, it does not read the devices it filters out, so that
// excluding a device whose files cannot be read keeps the scrape working.
func (c *infinibandCollector) Update(_ context.Context, ch chan<- prometheus.Metric) error {
	names, err := c.fs.InfiniBandClassDevices()
	if err != nil {
		return c.handleErr(err)
	}
	var devices []*sysfs.InfiniBandDevice
	for _, name := range names {
		if c.filter.ignored(name) {
			continue
		}
		device, err := c.fs.InfiniBandDevice(name)
		if err != nil {
			return c.handleErr(err)
		}
		devices = append(devices, device)
	}
	for _, device := range devices {
		c.sendDevice(ch, device)
	}
	return nil
}

// handleErr turns a missing file into ErrNoData, as node_exporter does.
func (c *infinibandCollector) handleErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		c.logger.Debug("infiniband statistics not found, skipping", "err", err)
		return ErrNoData
	}
	return fmt.Errorf("read class/infiniband: %w", err)
}

func (c *infinibandCollector) sendDevice(ch chan<- prometheus.Metric, device *sysfs.InfiniBandDevice) {
	ch <- c.info.mustNewConstMetric(1, device.Name, device.BoardID, device.FirmwareVersion, device.HCAType)
	for _, p := range device.Ports {
		num := strconv.FormatUint(uint64(p.Port), 10)
		ch <- c.stateID.mustNewConstMetric(float64(p.StateID), p.Name, num)
		ch <- c.physStateID.mustNewConstMetric(float64(p.PhysStateID), p.Name, num)
		ch <- c.rate.mustNewConstMetric(float64(p.Rate), p.Name, num)
		if p.HwCounters.Lifespan != nil {
			// The kernel counts milliseconds; node_exporter truncates them
			// to whole seconds.
			ch <- c.lifespan.mustNewConstMetric(float64(*p.HwCounters.Lifespan/1000), p.Name, num)
		}
		for _, ctr := range c.counters {
			if v := ctr.value(&p); v != nil {
				ch <- ctr.desc.mustNewConstMetric(float64(*v), p.Name, num)
			}
		}
	}
}
