# SPDX-License-Identifier: GPL-2.0
#
# test/hijack's DHCP server, for the kernel's ip=dhcp: on one interface,
# it offers one address (with a netmask, a router and a lease) to
# whichever client asks, answers its request, and exits after the ACK.
#
#   python3 dhcp-server.py IFACE SERVER_IP OFFERED_IP ROUTER
import socket
import struct
import sys

iface, server, offered, router = sys.argv[1:5]

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(('0.0.0.0', 67))
print('listening', flush=True)


def options(data):
    opts, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        opts[data[i]] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return opts


def reply(request, kind):
    xid, flags, chaddr = request[4:8], request[10:12], request[28:44]
    head = struct.pack('!BBBB', 2, 1, 6, 0) + xid + b'\0\0' + flags
    head += b'\0' * 4 + socket.inet_aton(offered) + socket.inet_aton(server) + b'\0' * 4
    head += chaddr + b'\0' * 192 + bytes([99, 130, 83, 99])
    opts = bytes([53, 1, kind]) + bytes([54, 4]) + socket.inet_aton(server)
    opts += bytes([1, 4]) + socket.inet_aton('255.255.255.0')
    opts += bytes([3, 4]) + socket.inet_aton(router)
    opts += bytes([51, 4]) + struct.pack('!I', 3600) + bytes([255])
    s.sendto(head + opts, ('255.255.255.255', 68))


while True:
    data, _ = s.recvfrom(2048)
    if len(data) < 240 or data[0] != 1:
        continue
    kind = options(data).get(53, b'\0')[0]
    if kind == 1:      # DISCOVER -> OFFER
        reply(data, 2)
    elif kind == 3:    # REQUEST -> ACK
        reply(data, 5)
        print('acked', flush=True)
        break
