# Bakes natd into an Amazon Linux 2023 AMI, x86_64 and arm64: the RPM
# installed, natd --check-config run, natd enabled (started at every boot,
# no user data needed). See README.md.
#
#   packer init . && packer build -var natd_rpm_x86_64=... -var natd_rpm_arm64=... .

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0"
    }
  }
}

variable "region" {
  description = "AWS region the AMIs are built in."
  type        = string
  default     = "us-east-1"
}

variable "natd_rpm_x86_64" {
  description = "Path (on the machine running Packer) of natd's x86_64 RPM, natd-VERSION-1.amzn2023.x86_64.rpm."
  type        = string
}

variable "natd_rpm_arm64" {
  description = "Path (on the machine running Packer) of natd's aarch64 RPM, natd-VERSION-1.amzn2023.aarch64.rpm."
  type        = string
}

variable "ami_name_prefix" {
  description = "Prefix of the AMIs' names; the architecture and a timestamp are appended."
  type        = string
  default     = "natd-al2023"
}

variable "instance_type_x86_64" {
  description = "Instance type of the x86_64 build instance."
  type        = string
  default     = "t3.small"
}

variable "instance_type_arm64" {
  description = "Instance type of the arm64 build instance."
  type        = string
  default     = "t4g.small"
}

variable "subnet_id" {
  description = "Subnet of the build instances (with a route to the internet). null: the default VPC's."
  type        = string
  default     = null
}

variable "ami_tags" {
  description = "Tags added to the AMIs and their snapshots."
  type        = map(string)
  default     = {}
}

locals {
  timestamp = regex_replace(timestamp(), "[- TZ:]", "")
}

# The latest AL2023 through its SSM parameter, as the Terraform module does.
data "amazon-parameterstore" "al2023_x86_64" {
  name   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  region = var.region
}

data "amazon-parameterstore" "al2023_arm64" {
  name   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
  region = var.region
}

source "amazon-ebs" "x86_64" {
  region        = var.region
  source_ami    = data.amazon-parameterstore.al2023_x86_64.value
  instance_type = var.instance_type_x86_64
  subnet_id     = var.subnet_id
  ssh_username  = "ec2-user"
  ami_name      = "${var.ami_name_prefix}-x86_64-${local.timestamp}"
  tags          = merge({ natd = "baked", Architecture = "x86_64" }, var.ami_tags)
  imds_support  = "v2.0"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

source "amazon-ebs" "arm64" {
  region        = var.region
  source_ami    = data.amazon-parameterstore.al2023_arm64.value
  instance_type = var.instance_type_arm64
  subnet_id     = var.subnet_id
  ssh_username  = "ec2-user"
  ami_name      = "${var.ami_name_prefix}-arm64-${local.timestamp}"
  tags          = merge({ natd = "baked", Architecture = "arm64" }, var.ami_tags)
  imds_support  = "v2.0"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

build {
  name = "natd"

  sources = [
    "source.amazon-ebs.x86_64",
    "source.amazon-ebs.arm64",
  ]

  provisioner "file" {
    source      = source.name == "arm64" ? var.natd_rpm_arm64 : var.natd_rpm_x86_64
    destination = "/tmp/natd.rpm"
  }

  # Enabled, not started: the build instance has one ENI. natd starts at
  # every boot of an instance from this AMI, with no user data.
  provisioner "shell" {
    inline = [
      "set -eu",
      "sudo dnf install -y /tmp/natd.rpm",
      "rm -f /tmp/natd.rpm",
      "sudo natd --check-config",
      "sudo systemctl enable natd",
      "systemctl is-enabled natd",
    ]
  }
}
