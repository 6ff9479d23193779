# natd NAT instance(s): ENIs at device index 0 and 1 with the
# source/destination check off, the Elastic IP on the public ENI (on the
# floating address for a pair), the security group, the 0.0.0.0/0 routes and
# natd's minimal user data (user-data.sh.tftpl). See README.md.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_vpc" "this" {
  id = var.vpc
}

data "aws_subnet" "public" {
  id = var.public_subnet
}

data "aws_subnet" "private" {
  count = length(var.private_subnets)
  id    = var.private_subnets[count.index]
}

data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

data "aws_ssm_parameter" "al2023" {
  count = var.ami == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${local.arch}"
}

locals {
  two_eni = var.mode == "two-eni"
  ha      = var.high_availability
  count   = local.ha ? 2 : 1
  arch    = contains(data.aws_ec2_instance_type.this.supported_architectures, "arm64") ? "arm64" : "x86_64"
  ami     = var.ami != null ? var.ami : nonsensitive(one(data.aws_ssm_parameter.al2023[*].value))

  private_cidrs = [for s in data.aws_subnet.private : s.cidr_block]
  source_cidrs  = distinct(concat(local.private_cidrs, var.additional_cidr))
  metrics_cidrs = length(var.metrics_cidrs) > 0 ? var.metrics_cidrs : local.private_cidrs
  health_port   = var.health_port != null ? var.health_port : (local.ha ? 8008 : null)
  # conntrackd's sync port in the conntrackd.conf natd renders (fixed).
  conntrackd_port = 3780

  # The ENI route_tables point at: the private ENI, or the only one.
  route_eni = local.two_eni ? one(aws_network_interface.private[*].id) : aws_network_interface.public[0].id

  tags = merge({ ManagedBy = "natd-terraform" }, var.tags)
}

# --- security group ---------------------------------------------------------

resource "aws_security_group" "nat" {
  name_prefix = "${var.name}-"
  description = "natd NAT instance: all protocols from the private subnets"
  vpc_id      = var.vpc
  tags        = merge(local.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

# count, not for_each: the subnets' CIDR blocks may be unknown until apply
# (subnets created in the same run), their number is not.
resource "aws_vpc_security_group_ingress_rule" "from_private" {
  count             = length(var.private_subnets) + length(var.additional_cidr)
  security_group_id = aws_security_group.nat.id
  description       = "all protocols from a NATed source"
  cidr_ipv4         = concat(local.private_cidrs, var.additional_cidr)[count.index]
  ip_protocol       = "-1"
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.nat.id
  description       = "everything out (the internet, the EC2 API, IMDS)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

# The pair: VRRP (IP protocol 112) and conntrackd's sync between the NATs.
resource "aws_vpc_security_group_ingress_rule" "vrrp" {
  count                        = local.ha ? 1 : 0
  security_group_id            = aws_security_group.nat.id
  description                  = "VRRP (keepalived) between the NAT pair"
  referenced_security_group_id = aws_security_group.nat.id
  ip_protocol                  = "112"
}

resource "aws_vpc_security_group_ingress_rule" "conntrackd" {
  count                        = local.ha ? 1 : 0
  security_group_id            = aws_security_group.nat.id
  description                  = "conntrackd state sync between the NAT pair"
  referenced_security_group_id = aws_security_group.nat.id
  ip_protocol                  = "udp"
  from_port                    = local.conntrackd_port
  to_port                      = local.conntrackd_port
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  count             = var.metrics_port == null ? 0 : (length(var.metrics_cidrs) > 0 ? length(var.metrics_cidrs) : length(var.private_subnets))
  security_group_id = aws_security_group.nat.id
  description       = "natd metrics (Prometheus)"
  cidr_ipv4         = local.metrics_cidrs[count.index]
  ip_protocol       = "tcp"
  from_port         = var.metrics_port
  to_port           = var.metrics_port
}

resource "aws_vpc_security_group_ingress_rule" "health" {
  count             = local.health_port == null ? 0 : 1
  security_group_id = aws_security_group.nat.id
  description       = "natd health endpoint (GET /health)"
  cidr_ipv4         = data.aws_vpc.this.cidr_block
  ip_protocol       = "tcp"
  from_port         = local.health_port
  to_port           = local.health_port
}

# --- ENIs ---------------------------------------------------------------------

# Device index 0, in the public subnet. The first NAT of a pair also holds
# the floating address at first (private_ips_count); natd moves it to the
# active NAT, so Terraform does not take it back.
resource "aws_network_interface" "public" {
  count             = local.count
  subnet_id         = var.public_subnet
  security_groups   = concat([aws_security_group.nat.id], var.additional_sg)
  source_dest_check = false
  private_ips_count = local.ha && count.index == 0 ? 1 : 0
  description       = "${var.name}-${count.index} public ENI (device index 0)"
  tags              = merge(local.tags, { Name = "${var.name}-${count.index}-public" })

  lifecycle {
    ignore_changes = [private_ips, private_ips_count, private_ip_list]
  }
}

# Device index 1, in the first private subnet (two-eni mode).
resource "aws_network_interface" "private" {
  count             = local.two_eni ? local.count : 0
  subnet_id         = var.private_subnets[0]
  security_groups   = concat([aws_security_group.nat.id], var.additional_sg)
  source_dest_check = false
  description       = "${var.name}-${count.index} private ENI (device index 1)"
  tags              = merge(local.tags, { Name = "${var.name}-${count.index}-private" })
}

# The floating address, read once when the first public ENI is created
# (ignore_changes keeps it: natd moves the address between the ENIs).
resource "terraform_data" "floating_address" {
  count = local.ha ? 1 : 0
  input = one(setsubtract(aws_network_interface.public[0].private_ips, [aws_network_interface.public[0].private_ip]))

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_eip" "nat" {
  count                     = local.ha || var.elastic_ip ? 1 : 0
  domain                    = "vpc"
  network_interface         = aws_network_interface.public[0].id
  associate_with_private_ip = one(terraform_data.floating_address[*].output)
  tags                      = merge(local.tags, { Name = var.name })

  # With a pair the address (and the Elastic IP with it) follows the active NAT.
  lifecycle {
    ignore_changes = [network_interface, associate_with_private_ip]
  }
}

# --- IAM (SSM for natd-ctl, and the pair's minimal policy) ------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# doc/high-availability.md: the floating address and the routes, scoped.
data "aws_iam_policy_document" "ha" {
  statement {
    actions = ["ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
    resources = [for eni in aws_network_interface.public :
    "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:network-interface/${eni.id}"]
  }
  statement {
    actions = ["ec2:ReplaceRoute"]
    resources = [for rtb in var.route_tables :
    "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:route-table/${rtb}"]
  }
  statement {
    actions   = ["ec2:DescribeRouteTables"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "nat" {
  count              = var.iam_profile == null ? 1 : 0
  name_prefix        = "${var.name}-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count      = var.iam_profile == null ? 1 : 0
  role       = aws_iam_role.nat[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy" "ha" {
  count  = var.iam_profile == null && local.ha ? 1 : 0
  name   = "natd-ha-pair"
  role   = aws_iam_role.nat[0].id
  policy = data.aws_iam_policy_document.ha.json
}

resource "aws_iam_instance_profile" "nat" {
  count       = var.iam_profile == null ? 1 : 0
  name_prefix = "${var.name}-"
  role        = aws_iam_role.nat[0].name
  tags        = local.tags
}

# --- the instance(s) ------------------------------------------------------------

resource "aws_instance" "nat" {
  count                = local.count
  ami                  = local.ami
  instance_type        = var.instance_type
  iam_instance_profile = var.iam_profile != null ? var.iam_profile : one(aws_iam_instance_profile.nat[*].name)

  network_interface {
    network_interface_id = aws_network_interface.public[count.index].id
    device_index         = 0
  }

  dynamic "network_interface" {
    for_each = local.two_eni ? [aws_network_interface.private[count.index].id] : []
    content {
      network_interface_id = network_interface.value
      device_index         = 1
    }
  }

  # natd reads IMDSv2 from the instance itself (doc/aws-setup.md).
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  user_data = templatefile("${path.module}/user-data.sh.tftpl", {
    natd_rpm_url      = var.natd_rpm_url
    single_eni        = !local.two_eni
    wait_timeout      = var.wait_timeout
    subnets           = local.two_eni ? local.private_cidrs : []
    source_cidrs      = local.two_eni ? [] : local.source_cidrs
    metrics_listen    = var.metrics_port == null || !local.two_eni ? "" : "${try(aws_network_interface.private[count.index].private_ip, "")}:${var.metrics_port}"
    metrics_cidrs     = var.metrics_port == null ? [] : local.metrics_cidrs
    health_listen     = local.health_port == null ? "" : "0.0.0.0:${local.health_port}"
    health_cidrs      = local.health_port == null ? [] : [data.aws_vpc.this.cidr_block]
    high_availability = local.ha
    peer              = local.ha ? try(aws_network_interface.private[1 - count.index].private_ip, "") : ""
    priority          = count.index == 0 ? 150 : 100
    floating_address  = local.ha ? one(terraform_data.floating_address[*].output) : ""
    route_tables      = local.ha ? var.route_tables : []
    interval          = var.advertisement_interval
    virtual_router_id = var.virtual_router_id
  })

  tags = merge(local.tags, { Name = local.ha ? "${var.name}-${count.index}" : var.name })

  lifecycle {
    precondition {
      condition     = !(local.ha && !local.two_eni)
      error_message = "high_availability needs mode = \"two-eni\" (natd refuses Private=none with a pair)."
    }
    precondition {
      condition     = !(var.metrics_port != null && !local.two_eni)
      error_message = "metrics_port listens on the private ENI's address: two-eni mode only (use health_port, or a [Metrics] drop-in of your own)."
    }
  }
}

# --- routes ---------------------------------------------------------------------

# 0.0.0.0/0 of every private route table to the NAT (the first of a pair:
# natd's ReplaceRoute then points it at the active one, so Terraform leaves
# the target alone afterwards).
resource "aws_route" "default" {
  count                  = length(var.route_tables)
  route_table_id         = var.route_tables[count.index]
  destination_cidr_block = "0.0.0.0/0"
  network_interface_id   = local.route_eni

  lifecycle {
    ignore_changes = [network_interface_id]
  }
}
