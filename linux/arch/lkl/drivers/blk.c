// SPDX-License-Identifier: GPL-2.0
/*
 * Block devices backed by the host: /dev/vda, /dev/vdb, ...
 *
 * Each request is described by a struct lkl_blk_req (memory segments and
 * a byte offset) and handed to the host backend, which performs it at
 * once if it can do so without waiting (try_now), or on its own threads.  Completions come back through lkl_blk_complete(), from any
 * host thread: they are queued and an interrupt is raised, whose handler
 * ends the requests on the kernel's CPU.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/idr.h>
#include <asm/host_ops.h>
#include <asm/irq.h>

#include "../kernel/lkl.h"

#define LKL_BLK_MINORS		16
#define LKL_BLK_MAX_SEGS	256
/* Requests of up to 4 MiB: the host reads and writes in large pieces. */
#define LKL_BLK_MAX_SECTORS	(4U << (20 - SECTOR_SHIFT))

struct lkl_blk_dev {
	struct lkl_disk host;
	struct gendisk *gd;
	struct blk_mq_tag_set tag_set;
	int index;
	int irq;
	struct lkl_mutex *done_lock;
	struct lkl_blk_req *done;
	struct list_head list;
};

struct lkl_blk_cmd {
	struct lkl_blk_req req;
	struct lkl_blk_dev *dev;
	struct request *rq;
	struct lkl_blk_seg segs[LKL_BLK_MAX_SEGS];
};

static int major;
static DEFINE_IDA(index_ida);
static DEFINE_MUTEX(devs_lock);
static LIST_HEAD(devs);

static blk_status_t lkl_blk_queue_rq(struct blk_mq_hw_ctx *hctx,
				     const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct lkl_blk_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct lkl_blk_req *req = &cmd->req;
	struct req_iterator iter;
	struct bio_vec bv;

	memset(req, 0, sizeof(*req));
	cmd->dev = hctx->queue->queuedata;
	cmd->rq = rq;
	req->segs = cmd->segs;
	req->offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	req->len = blk_rq_bytes(rq);

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		req->op = req_op(rq) == REQ_OP_READ ? LKL_BLK_READ :
						       LKL_BLK_WRITE;
		req->fua = !!(rq->cmd_flags & REQ_FUA);
		rq_for_each_segment(bv, rq, iter) {
			struct lkl_blk_seg *seg = &cmd->segs[req->nsegs];

			/* Merged neighbours make one host iovec. */
			if (req->nsegs && seg[-1].base + seg[-1].len ==
			    bvec_virt(&bv)) {
				seg[-1].len += bv.bv_len;
				continue;
			}
			if (WARN_ON(req->nsegs == LKL_BLK_MAX_SEGS))
				return BLK_STS_IOERR;
			seg->base = bvec_virt(&bv);
			seg->len = bv.bv_len;
			req->nsegs++;
		}
		break;
	case REQ_OP_FLUSH:
		req->op = LKL_BLK_FLUSH;
		break;
	case REQ_OP_DISCARD:
		req->op = LKL_BLK_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		req->op = LKL_BLK_WRITE_ZEROES;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	blk_mq_start_request(rq);
	/*
	 * Done at once when the host can (its page cache warm): no trip to
	 * a host thread and back through an interrupt, which with small
	 * metadata reads costs more than the read.
	 */
	if (cmd->dev->host.try_now &&
	    !cmd->dev->host.try_now(cmd->dev->host.priv, req)) {
		blk_mq_end_request(rq, errno_to_blk_status(req->error));
		return BLK_STS_OK;
	}
	cmd->dev->host.submit(cmd->dev->host.priv, req);
	return BLK_STS_OK;
}

void lkl_blk_complete(struct lkl_blk_req *req)
{
	struct lkl_blk_cmd *cmd = container_of(req, struct lkl_blk_cmd, req);
	struct lkl_blk_dev *dev = cmd->dev;

	lkl_ops->mutex_lock(dev->done_lock);
	req->next = dev->done;
	dev->done = req;
	lkl_ops->mutex_unlock(dev->done_lock);
	lkl_irq_raise(dev->irq);
}

static irqreturn_t lkl_blk_irq(int irq, void *data)
{
	struct lkl_blk_dev *dev = data;
	struct lkl_blk_req *req, *next;

	lkl_ops->mutex_lock(dev->done_lock);
	req = dev->done;
	dev->done = NULL;
	lkl_ops->mutex_unlock(dev->done_lock);

	for (; req; req = next) {
		struct lkl_blk_cmd *cmd = container_of(req, struct lkl_blk_cmd,
						       req);

		next = req->next;
		blk_mq_end_request(cmd->rq, errno_to_blk_status(req->error));
	}
	return IRQ_HANDLED;
}

static const struct block_device_operations lkl_blk_fops = {
	.owner = THIS_MODULE,
};

static const struct blk_mq_ops lkl_blk_mq_ops = {
	.queue_rq = lkl_blk_queue_rq,
};

static void lkl_blk_free(struct lkl_blk_dev *dev)
{
	if (dev->irq > 0) {
		free_irq(dev->irq, dev);
		lkl_irq_free(dev->irq);
	}
	if (dev->done_lock)
		lkl_ops->mutex_free(dev->done_lock);
	if (dev->index >= 0)
		ida_free(&index_ida, dev->index);
	kfree(dev);
}

static void lkl_blk_name(int index, char *buf)
{
	/* vda..vdz, then vdaa..vdzz, as virtio-blk names them */
	if (index < 26)
		sprintf(buf, "vd%c", 'a' + index);
	else
		sprintf(buf, "vd%c%c", 'a' + index / 26 - 1, 'a' + index % 26);
}

static int lkl_blk_add(const struct lkl_disk *disk, char *name, int name_len)
{
	struct queue_limits lim = {
		.logical_block_size	= SECTOR_SIZE,
		.max_hw_sectors		= LKL_BLK_MAX_SECTORS,
		.max_segments		= LKL_BLK_MAX_SEGS,
		.max_hw_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
		/* Twice this is the readahead window: 1 MiB. */
		.io_opt			= SZ_512K,
		.features		= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
	};
	struct lkl_blk_dev *dev;
	struct gendisk *gd;
	int err;

	if (!disk->submit || disk->capacity < SECTOR_SIZE)
		return -EINVAL;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->host = *disk;
	dev->index = -1;

	dev->done_lock = lkl_ops->mutex_alloc();
	if (!dev->done_lock) {
		err = -ENOMEM;
		goto out_free;
	}
	dev->index = ida_alloc_max(&index_ida, 26 * 27 - 1, GFP_KERNEL);
	if (dev->index < 0) {
		err = dev->index;
		goto out_free;
	}
	dev->irq = lkl_irq_alloc();
	if (dev->irq < 0) {
		err = dev->irq;
		goto out_free;
	}
	err = request_irq(dev->irq, lkl_blk_irq, 0, "lkl-blk", dev);
	if (err) {
		lkl_irq_free(dev->irq);
		dev->irq = 0;
		goto out_free;
	}

	dev->tag_set.ops = &lkl_blk_mq_ops;
	dev->tag_set.nr_hw_queues = 1;
	dev->tag_set.queue_depth = 64;
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct lkl_blk_cmd);
	dev->tag_set.driver_data = dev;
	err = blk_mq_alloc_tag_set(&dev->tag_set);
	if (err)
		goto out_free;

	gd = blk_mq_alloc_disk(&dev->tag_set, &lim, dev);
	if (IS_ERR(gd)) {
		err = PTR_ERR(gd);
		goto out_tags;
	}
	dev->gd = gd;
	gd->major = major;
	gd->first_minor = dev->index * LKL_BLK_MINORS;
	gd->minors = LKL_BLK_MINORS;
	gd->fops = &lkl_blk_fops;
	gd->private_data = dev;
	lkl_blk_name(dev->index, gd->disk_name);
	set_capacity(gd, disk->capacity >> SECTOR_SHIFT);
	set_disk_ro(gd, !!disk->read_only);

	err = add_disk(gd);
	if (err)
		goto out_disk;

	mutex_lock(&devs_lock);
	list_add_tail(&dev->list, &devs);
	mutex_unlock(&devs_lock);

	if (name && name_len > 0)
		strscpy(name, gd->disk_name, name_len);
	return dev->index;

out_disk:
	put_disk(gd);
out_tags:
	blk_mq_free_tag_set(&dev->tag_set);
out_free:
	lkl_blk_free(dev);
	return err;
}

static int lkl_blk_remove(const char *name)
{
	struct lkl_blk_dev *dev, *found = NULL;

	mutex_lock(&devs_lock);
	list_for_each_entry(dev, &devs, list) {
		if (!strcmp(dev->gd->disk_name, name)) {
			found = dev;
			list_del(&dev->list);
			break;
		}
	}
	mutex_unlock(&devs_lock);
	if (!found)
		return -ENXIO;

	del_gendisk(found->gd);
	put_disk(found->gd);
	blk_mq_free_tag_set(&found->tag_set);
	lkl_blk_free(found);
	return 0;
}

int lkl_disk_add(const struct lkl_disk *disk, char *name, int name_len)
{
	long ret = lkl_enter();

	if (ret)
		return ret;
	ret = lkl_blk_add(disk, name, name_len);
	lkl_leave();
	return ret;
}

int lkl_disk_remove(const char *name)
{
	long ret = lkl_enter();

	if (ret)
		return ret;
	ret = lkl_blk_remove(name);
	lkl_leave();
	return ret;
}

static int __init lkl_blk_init(void)
{
	major = register_blkdev(0, "vd");
	return major < 0 ? major : 0;
}
device_initcall(lkl_blk_init);
