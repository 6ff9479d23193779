# The seed's inputs (the NAT instance module people already use).

variable "vpc" {
  description = "ID of the VPC the NAT instance(s) serve."
  type        = string
}

variable "public_subnet" {
  description = "ID of the public subnet (route to an internet gateway) holding the public ENI at device index 0; with high_availability both NATs and the floating address are in it."
  type        = string
}

variable "private_subnets" {
  description = "IDs of the private subnets whose traffic goes through the NAT. The first one holds the private ENI (device index 1); their CIDR blocks are the security group's sources and natd's [Routes] Subnets=. Unused by the ENIs in single-eni mode, but still the allowed sources."
  type        = list(string)
  validation {
    condition     = length(var.private_subnets) > 0
    error_message = "private_subnets needs at least one subnet (the first holds the private ENI)."
  }
}

variable "route_tables" {
  description = "IDs of the private route tables whose 0.0.0.0/0 route is pointed at the NAT's private ENI (the public ENI in single-eni mode); with high_availability natd moves it to the active NAT ([HighAvailability] RouteTables=)."
  type        = list(string)
}

variable "iam_profile" {
  description = "Name of an existing instance profile to attach. null: the module's own role and profile, with AmazonSSMManagedInstanceCore (natd-ctl over SSM) and, with high_availability, the pair's minimal policy (output ha_policy_json; attach it to your role when you pass your own profile)."
  type        = string
  default     = null
}

variable "elastic_ip" {
  description = "Allocate an Elastic IP for the public ENI (a two-ENI instance loses its public address on stop/start). With high_availability one Elastic IP is always allocated, on the floating address."
  type        = bool
  default     = true
}

variable "additional_sg" {
  description = "IDs of further security groups to attach to every ENI of the NAT(s)."
  type        = list(string)
  default     = []
}

variable "additional_cidr" {
  description = "Further source CIDR blocks allowed through the NAT besides the private subnets' (security group ingress, and [NAT] SourceCIDRs= in single-eni mode)."
  type        = list(string)
  default     = []
}

# natd's own inputs.

variable "name" {
  description = "Name prefix of the resources (tags Name, security group, IAM role)."
  type        = string
  default     = "natd"
}

variable "instance_type" {
  description = "EC2 instance type of the NAT(s); its architecture must match the AMI's (t4g/c7g are arm64, t3/c7i x86_64)."
  type        = string
  default     = "t4g.nano"
}

variable "ami" {
  description = "AMI ID of the NAT(s). null: the latest Amazon Linux 2023 for the instance type's architecture, from the SSM parameter /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-ARCH (natd_rpm_url installs natd on it), or an AMI baked by deploy/packer (set natd_rpm_url to \"\")."
  type        = string
  default     = null
}

variable "natd_rpm_url" {
  description = "URL (or path on the instance) of natd's RPM that user data installs with dnf, for the instance's architecture. \"\": the AMI has natd baked in (deploy/packer), nothing is installed."
  type        = string
}

variable "mode" {
  description = "two-eni: a public ENI (device index 0) and a private ENI (device index 1) in private_subnets[0]; single-eni: one ENI in the public subnet that route_tables point at, natd's [Interfaces] Private=none (hairpin NAT)."
  type        = string
  default     = "two-eni"
  validation {
    condition     = contains(["two-eni", "single-eni"], var.mode)
    error_message = "mode must be \"two-eni\" or \"single-eni\"."
  }
}

variable "high_availability" {
  description = "Two NAT instances as an active/standby pair (doc/high-availability.md): a floating secondary address on the public subnet with the Elastic IP, an IAM role with the pair's minimal policy, VRRP (IP protocol 112) and conntrackd (UDP 3780) between the private ENIs. two-eni mode only."
  type        = bool
  default     = false
}

variable "advertisement_interval" {
  description = "High availability: [HighAvailability] AdvertisementIntervalSec= (VRRP); 200ms fails over in about a second."
  type        = string
  default     = "200ms"
}

variable "virtual_router_id" {
  description = "High availability: [HighAvailability] VirtualRouterID= (1-255), distinct per pair sharing a subnet."
  type        = number
  default     = 51
}

variable "metrics_port" {
  description = "TCP port of natd's Prometheus endpoint ([Metrics] Listen=) on the private ENI's address, allowed from metrics_cidrs. null: no endpoint."
  type        = number
  default     = null
}

variable "metrics_cidrs" {
  description = "CIDR blocks allowed to scrape metrics_port (security group, and natd's IPAddressAllow= drop-in). Empty: the private subnets'."
  type        = list(string)
  default     = []
}

variable "health_port" {
  description = "TCP port of natd's health endpoint ([Health] Listen=, GET /health) on all addresses, allowed from the VPC's CIDR block. null: no endpoint (high_availability defaults it to 8008)."
  type        = number
  default     = null
}

variable "wait_timeout" {
  description = "natd's [Interfaces] WaitTimeoutSec=: how long natd waits for its ENIs."
  type        = string
  default     = "infinity"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
