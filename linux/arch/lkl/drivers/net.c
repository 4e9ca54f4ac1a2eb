// SPDX-License-Identifier: GPL-2.0
/*
 * Ethernet interfaces backed by the host: eth0, eth1, ...
 *
 * A host backend (struct lkl_netdev) moves whole frames.  The kernel calls
 * it on its own CPU: ndo_start_xmit hands each frame to ->tx, and the NAPI
 * poll reads frames with ->rx straight into socket buffers.  Neither
 * blocks; when the host side is full or empty the kernel arms the backend,
 * whose own thread waits on the host and calls lkl_netdev_event(), which
 * raises this interface's interrupt: the handler schedules NAPI or wakes
 * the queue.  So no frame is copied twice and no kernel thread waits on
 * the host.
 *
 * With a virtio-net header in front of each frame, checksums and
 * segmentation are left to whichever side the backend says can do them.
 */
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/virtio_net.h>
#include <asm/host_ops.h>
#include <asm/irq.h>
#include <asm/cpu.h>
/* The network part of the contract, which only its users see. */
#define LKL_NETDEV_API
#include <uapi/asm/host_ops.h>

#include "../kernel/lkl.h"

/* Received frames: this much in the socket buffer's head, pages after. */
#define LKL_NET_RX_HEAD		1536
#define LKL_NET_MAX_FRAME	(ETH_MAX_MTU + ETH_HLEN + VLAN_HLEN)
#define LKL_NET_RX_PAGES	DIV_ROUND_UP(LKL_NET_MAX_FRAME - LKL_NET_RX_HEAD, \
					     PAGE_SIZE)

#define LKL_NET_BIT(f)		(1ULL << LKL_VIRTIO_NET_F_##f)
/* Any of these and the host may give frames of up to 64 KiB. */
#define LKL_NET_BIG_RX		(LKL_NET_BIT(GUEST_TSO4) | \
				 LKL_NET_BIT(GUEST_TSO6) | \
				 LKL_NET_BIT(MRG_RXBUF))

struct lkl_net {
	struct net_device *ndev;
	struct napi_struct napi;
	struct lkl_netdev *host;
	int irq;
	unsigned int hdr_len;
	bool big_rx;
	/* Events host threads raised since the handler last ran. */
	struct lkl_mutex *events_lock;
	int events;
	/* Spare pages for the tail of the next big frame. */
	struct page *rx_pages[LKL_NET_RX_PAGES];
};

static unsigned int lkl_net_max_frame(struct lkl_net *net)
{
	if (net->big_rx)
		return LKL_NET_MAX_FRAME;
	return net->ndev->mtu + ETH_HLEN + VLAN_HLEN;
}

/* Fill the spare pages a frame of @frame bytes may need; false if short. */
static bool lkl_net_rx_refill(struct lkl_net *net, unsigned int frame)
{
	unsigned int i, need = 0;

	if (frame > LKL_NET_RX_HEAD)
		need = DIV_ROUND_UP(frame - LKL_NET_RX_HEAD, PAGE_SIZE);
	for (i = 0; i < need; i++) {
		if (net->rx_pages[i])
			continue;
		net->rx_pages[i] = alloc_page(GFP_ATOMIC);
		if (!net->rx_pages[i])
			return false;
	}
	return true;
}

/*
 * One frame from the host: a socket buffer, NULL when none waits (or on
 * a host error), or an ERR_PTR for a frame dropped.
 */
static struct sk_buff *lkl_net_rx_one(struct lkl_net *net)
{
	struct lkl_net_iov iov[2 + LKL_NET_RX_PAGES];
	struct net_device *ndev = net->ndev;
	unsigned int frame = lkl_net_max_frame(net);
	struct virtio_net_hdr hdr;
	struct sk_buff *skb;
	unsigned int head, rest, i;
	int count = 0;
	long len;

	if (!lkl_net_rx_refill(net, frame))
		return NULL;
	skb = napi_alloc_skb(&net->napi, LKL_NET_RX_HEAD);
	if (!skb)
		return NULL;

	if (net->hdr_len)
		iov[count++] = (struct lkl_net_iov){ &hdr, net->hdr_len };
	iov[count++] = (struct lkl_net_iov){ skb->data, LKL_NET_RX_HEAD };
	for (rest = frame > LKL_NET_RX_HEAD ? frame - LKL_NET_RX_HEAD : 0, i = 0;
	     rest; rest -= min_t(unsigned int, rest, PAGE_SIZE), i++)
		iov[count++] = (struct lkl_net_iov){
			page_address(net->rx_pages[i]), PAGE_SIZE };

	len = net->host->rx(net->host->priv, iov, count);
	if (len < 0) {
		dev_kfree_skb_any(skb);
		if (len != -EAGAIN)
			ndev->stats.rx_errors++;
		return NULL;
	}
	len -= net->hdr_len;
	if (len < ETH_HLEN) {
		dev_kfree_skb_any(skb);
		ndev->stats.rx_length_errors++;
		return ERR_PTR(-EINVAL);
	}

	head = min_t(unsigned int, len, LKL_NET_RX_HEAD);
	skb_put(skb, head);
	for (rest = len - head, i = 0; rest; i++) {
		unsigned int size = min_t(unsigned int, rest, PAGE_SIZE);

		skb_add_rx_frag(skb, i, net->rx_pages[i], 0, size, PAGE_SIZE);
		net->rx_pages[i] = NULL;
		rest -= size;
	}

	if (net->hdr_len) {
		if (virtio_net_hdr_to_skb(skb, &hdr, true)) {
			dev_kfree_skb_any(skb);
			ndev->stats.rx_frame_errors++;
			return ERR_PTR(-EINVAL);
		}
		if (hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID)
			skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	skb->protocol = eth_type_trans(skb, ndev);
	ndev->stats.rx_packets++;
	ndev->stats.rx_bytes += len;
	return skb;
}

static int lkl_net_poll(struct napi_struct *napi, int budget)
{
	struct lkl_net *net = container_of(napi, struct lkl_net, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget) {
		skb = lkl_net_rx_one(net);
		if (!skb)
			break;
		if (!IS_ERR(skb))
			napi_gro_receive(napi, skb);
		done++;
	}
	/* Level-triggered: a frame that came after the last read fires now. */
	if (done < budget && napi_complete_done(napi, done))
		net->host->arm(net->host->priv, LKL_NET_RX);
	return done;
}

static netdev_tx_t lkl_net_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct lkl_net *net = netdev_priv(ndev);
	struct lkl_net_iov iov[2 + MAX_SKB_FRAGS];
	struct virtio_net_hdr hdr;
	unsigned int len = skb->len;
	int count = 0, i;
	long ret;

	if (net->hdr_len) {
		if (virtio_net_hdr_from_skb(skb, &hdr, true, false, 0))
			goto drop;
		iov[count++] = (struct lkl_net_iov){ &hdr, net->hdr_len };
	} else if (skb->ip_summed == CHECKSUM_PARTIAL &&
		   skb_checksum_help(skb)) {
		goto drop;
	}
	iov[count++] = (struct lkl_net_iov){ skb->data, skb_headlen(skb) };
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		iov[count++] = (struct lkl_net_iov){ skb_frag_address(frag),
						     skb_frag_size(frag) };
	}

	ret = net->host->tx(net->host->priv, iov, count);
	if (ret == -EAGAIN) {
		/* The queue wakes when the host side has room again. */
		netif_stop_queue(ndev);
		net->host->arm(net->host->priv, LKL_NET_TX);
		return NETDEV_TX_BUSY;
	}
	if (ret < 0)
		goto drop;
	ndev->stats.tx_packets++;
	ndev->stats.tx_bytes += len;
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;

drop:
	ndev->stats.tx_dropped++;
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

void lkl_netdev_event(struct lkl_netdev *nd, int events)
{
	struct lkl_net *net = nd->handle;

	lkl_ops->mutex_lock(net->events_lock);
	net->events |= events;
	lkl_ops->mutex_unlock(net->events_lock);
	lkl_irq_raise(net->irq);
}

static irqreturn_t lkl_net_irq(int irq, void *data)
{
	struct lkl_net *net = data;
	int events;

	lkl_ops->mutex_lock(net->events_lock);
	events = net->events;
	net->events = 0;
	lkl_ops->mutex_unlock(net->events_lock);

	if (events & LKL_NET_RX)
		napi_schedule(&net->napi);
	if (events & LKL_NET_TX)
		netif_wake_queue(net->ndev);
	return IRQ_HANDLED;
}

static int lkl_net_open(struct net_device *ndev)
{
	struct lkl_net *net = netdev_priv(ndev);

	napi_enable(&net->napi);
	netif_start_queue(ndev);
	netif_carrier_on(ndev);
	net->host->arm(net->host->priv, LKL_NET_RX);
	return 0;
}

static int lkl_net_stop(struct net_device *ndev)
{
	struct lkl_net *net = netdev_priv(ndev);

	netif_carrier_off(ndev);
	netif_stop_queue(ndev);
	napi_disable(&net->napi);
	return 0;
}

static const struct net_device_ops lkl_net_ops = {
	.ndo_open		= lkl_net_open,
	.ndo_stop		= lkl_net_stop,
	.ndo_start_xmit		= lkl_net_xmit,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

/* What the kernel may leave to the backend, from its offload bits. */
static netdev_features_t lkl_net_features(u64 offload)
{
	netdev_features_t f = 0;

	if (offload & LKL_NET_BIT(CSUM)) {
		f |= NETIF_F_HW_CSUM | NETIF_F_SG;
		if (offload & LKL_NET_BIT(HOST_TSO4))
			f |= NETIF_F_TSO;
		if (offload & LKL_NET_BIT(HOST_TSO6))
			f |= NETIF_F_TSO6;
	}
	return f;
}

static void lkl_net_free(struct lkl_net *net)
{
	int i;

	for (i = 0; i < LKL_NET_RX_PAGES; i++)
		if (net->rx_pages[i])
			__free_page(net->rx_pages[i]);
	if (net->irq > 0) {
		free_irq(net->irq, net);
		lkl_irq_free(net->irq);
	}
	if (net->events_lock)
		lkl_ops->mutex_free(net->events_lock);
	free_netdev(net->ndev);
}

static int lkl_net_add(struct lkl_netdev *nd, char *name, int name_len)
{
	struct net_device *ndev;
	struct lkl_net *net;
	int err;

	if (!nd->tx || !nd->rx || !nd->arm)
		return -EINVAL;
	if (!nd->vnet_hdr && nd->offload)
		return -EINVAL;
	if (nd->mtu && (nd->mtu < ETH_MIN_MTU || nd->mtu > ETH_MAX_MTU))
		return -EINVAL;

	ndev = alloc_etherdev(sizeof(*net));
	if (!ndev)
		return -ENOMEM;
	net = netdev_priv(ndev);
	net->ndev = ndev;
	net->host = nd;
	net->hdr_len = nd->vnet_hdr ? LKL_NET_VNET_HDR_LEN : 0;
	net->big_rx = nd->offload & LKL_NET_BIG_RX;

	net->events_lock = lkl_ops->mutex_alloc();
	if (!net->events_lock) {
		err = -ENOMEM;
		goto out_free;
	}
	net->irq = lkl_irq_alloc();
	if (net->irq < 0) {
		err = net->irq;
		net->irq = 0;
		goto out_free;
	}
	err = request_irq(net->irq, lkl_net_irq, 0, "lkl-net", net);
	if (err) {
		lkl_irq_free(net->irq);
		net->irq = 0;
		goto out_free;
	}

	ndev->netdev_ops = &lkl_net_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = ETH_MAX_MTU;
	if (nd->mtu)
		ndev->mtu = nd->mtu;
	ndev->hw_features = lkl_net_features(nd->offload);
	ndev->features = ndev->hw_features;
	if (is_zero_ether_addr(nd->mac))
		eth_hw_addr_random(ndev);
	else if (is_valid_ether_addr(nd->mac))
		eth_hw_addr_set(ndev, nd->mac);
	else {
		err = -EINVAL;
		goto out_free;
	}
	netif_napi_add(ndev, &net->napi, lkl_net_poll);
	/* Carrier on at open, when the backend is armed (IPv6 DAD waits). */
	netif_carrier_off(ndev);

	err = register_netdev(ndev);
	if (err)
		goto out_napi;
	nd->handle = net;
	if (name && name_len > 0)
		strscpy(name, ndev->name, name_len);
	return ndev->ifindex;

out_napi:
	netif_napi_del(&net->napi);
out_free:
	lkl_net_free(net);
	return err;
}

/*
 * Interfaces given before boot wait here, to be registered before the
 * late initcalls: ip= on the command line (IP_PNP) must find them.
 */
#define LKL_NET_EARLY_MAX	16
static struct lkl_netdev *early[LKL_NET_EARLY_MAX];
static int early_count;

static int __init lkl_net_early_init(void)
{
	int i, ret;

	for (i = 0; i < early_count; i++) {
		ret = lkl_net_add(early[i], NULL, 0);
		if (ret < 0)
			pr_err("lkl: network interface %d: error %d\n", i, ret);
	}
	return 0;
}
device_initcall(lkl_net_early_init);

int lkl_netdev_add(struct lkl_netdev *nd, char *name, int name_len)
{
	long ret;

	if (!lkl_ops) {
		/* Not booted: no CPU to take; the host is single-threaded. */
		if (early_count == LKL_NET_EARLY_MAX)
			return -ENOSPC;
		early[early_count++] = nd;
		if (name && name_len > 0)
			snprintf(name, name_len, "eth%d", early_count - 1);
		return 0;
	}
	ret = lkl_enter();
	if (ret)
		return ret;
	ret = lkl_net_add(nd, name, name_len);
	lkl_leave();
	return ret;
}

int lkl_netdev_remove(struct lkl_netdev *nd)
{
	struct lkl_net *net = nd->handle;
	long ret;

	if (!net)
		return -ENODEV;
	ret = lkl_enter();
	if (ret)
		return ret;
	unregister_netdev(net->ndev);
	netif_napi_del(&net->napi);
	nd->handle = NULL;
	lkl_net_free(net);
	lkl_leave();
	return 0;
}
